"""Tools the deploy tests install for themselves (stdlib only).

Everything goes to a cache directory outside the repository, so a rerun installs nothing:
$S3HC_TOOLS_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/s3hc-tools. Go programs are built with
`go install` from the Go module proxy at pinned versions.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

HELM_MODULE = "helm.sh/helm/v3"
HELM_VERSION = "v3.21.4"  # approved; v3.22.0 is served but not approved
KUBECONFORM_MODULE = "github.com/yannh/kubeconform"
KUBECONFORM_VERSION = "v0.7.0"
YAML_V3_VERSION = "v3.0.1"  # gopkg.in/yaml.v3, for the yaml2json helper
# Kubernetes JSON schemas (1.25 to 1.37), shipped inside this PyPI package's wheel.
SCHEMA_PACKAGE = "kubernetes-validate"
SCHEMA_PACKAGE_VERSION = "1.37.0"


def tools_dir() -> Path:
    if os.environ.get("S3HC_TOOLS_DIR"):
        root = Path(os.environ["S3HC_TOOLS_DIR"])
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
        root = Path(cache) / "s3hc-tools"
    root.mkdir(parents=True, exist_ok=True)
    return root


def find_go():
    """The go command, or None."""
    for candidate in (os.environ.get("S3HC_GO"), shutil.which("go"), "/usr/local/go/bin/go"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n"
                           f"{result.stdout}\n{result.stderr}")
    return result


def _module_version(go, binary: Path):
    """The main module's version recorded in a Go binary (`go version -m`), or None."""
    result = subprocess.run([go, "version", "-m", str(binary)], capture_output=True, text=True)
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] == "mod":
            return fields[2]
    return None


def go_install(go, package: str, module: str, version: str, name: str) -> Path:
    """Builds `package@version` into <tools>/<name>-<version>/ once; returns the binary."""
    bindir = tools_dir() / f"{name}-{version}"
    binary = bindir / name
    if binary.exists() and _module_version(go, binary) == version:
        return binary
    bindir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GOBIN=str(bindir), CGO_ENABLED="0")
    print(f"deploy tests: installing {package}@{version} into {bindir}", file=sys.stderr)
    _run([go, "install", f"{package}@{version}"], env=env, cwd=tempfile.gettempdir())
    found = _module_version(go, binary)
    if found != version:
        raise RuntimeError(f"{binary}: built {module} {found}, wanted {version}")
    return binary


def helm(go) -> Path:
    return go_install(go, f"{HELM_MODULE}/cmd/helm", HELM_MODULE, HELM_VERSION, "helm")


def kubeconform(go) -> Path:
    return go_install(go, f"{KUBECONFORM_MODULE}/cmd/kubeconform", KUBECONFORM_MODULE,
                      KUBECONFORM_VERSION, "kubeconform")


YAML2JSON_SOURCE = r'''// yaml2json: every YAML document on stdin, as one JSON array on stdout.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

func main() {
	dec := yaml.NewDecoder(os.Stdin)
	docs := []interface{}{}
	for {
		var doc interface{}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "yaml2json:", err)
			os.Exit(1)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	out, err := json.Marshal(docs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "yaml2json:", err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
}
'''


def yaml2json(go) -> Path:
    """A YAML reader for the stdlib-only tests: gopkg.in/yaml.v3 (strict YAML 1.2 parser,
    duplicate keys are errors) behind a 30-line Go program, built once."""
    srcdir = tools_dir() / f"yaml2json-{YAML_V3_VERSION}"
    binary = srcdir / "yaml2json"
    if binary.exists():
        return binary
    srcdir.mkdir(parents=True, exist_ok=True)
    (srcdir / "main.go").write_text(YAML2JSON_SOURCE)
    (srcdir / "go.mod").write_text(
        f"module s3hc.local/yaml2json\n\ngo 1.21\n\nrequire gopkg.in/yaml.v3 {YAML_V3_VERSION}\n")
    env = dict(os.environ, CGO_ENABLED="0")
    _run([go, "mod", "tidy"], cwd=srcdir, env=env)
    _run([go, "build", "-o", str(binary), "."], cwd=srcdir, env=env)
    return binary


def load_yaml_documents(go, text: str):
    """Every document of a YAML stream, as Python objects (via yaml2json)."""
    result = subprocess.run([str(yaml2json(go))], input=text, capture_output=True, text=True)
    if result.returncode != 0:
        raise ValueError(result.stderr.strip())
    return json.loads(result.stdout)


def _schema_wheel() -> Path:
    """The kubernetes-validate wheel (downloaded once with pip)."""
    wheeldir = tools_dir() / f"{SCHEMA_PACKAGE}-{SCHEMA_PACKAGE_VERSION}"
    wheels = sorted(wheeldir.glob("*.whl"))
    if wheels:
        return wheels[0]
    wheeldir.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip"]
    if subprocess.run(pip + ["--version"], capture_output=True).returncode != 0:
        pip = [shutil.which("pip3") or shutil.which("pip") or "pip3"]
    print(f"deploy tests: downloading {SCHEMA_PACKAGE}=={SCHEMA_PACKAGE_VERSION} "
          f"(Kubernetes JSON schemas) into {wheeldir}", file=sys.stderr)
    _run(pip + ["download", "--quiet", "--disable-pip-version-check", "--no-deps",
                "--only-binary", ":all:", "-d", str(wheeldir),
                f"{SCHEMA_PACKAGE}=={SCHEMA_PACKAGE_VERSION}"])
    wheels = sorted(wheeldir.glob("*.whl"))
    if not wheels:
        raise RuntimeError(f"pip downloaded no wheel of {SCHEMA_PACKAGE} into {wheeldir}")
    return wheels[0]


def schema_file_name(kind: str, api_version: str) -> str:
    """kubeconform's file name for a kind: {{ .ResourceKind }}{{ .KindSuffix }}.json."""
    group, _, version = api_version.rpartition("/")
    suffix = f"-{group.split('.')[0].lower()}-{version.lower()}" if group else f"-{version.lower()}"
    return f"{kind.lower()}{suffix}.json"


def standalone_schemas(kube_version: str, kinds) -> Path:
    """A kubeconform schema directory for kube_version ("1.34.0") holding the standalone strict
    schemas of `kinds` ((kind, apiVersion) pairs).

    kubernetes-validate ships each kind's schema with references into a shared
    _definitions.json ("/api/_definitions.json#/$defs/..."), which kubeconform cannot follow.
    They are inlined here (a recursive definition, which none of the chart's kinds has, would be
    cut to {}), giving the "<version>-standalone-strict/<kind>-<group>-<version>.json" layout
    kubeconform's -schema-location template expects. Returns the directory to pass as
    -schema-location's root.
    """
    root = tools_dir() / "kubernetes-json-schema"
    outdir = root / f"v{kube_version}-standalone-strict"
    outdir.mkdir(parents=True, exist_ok=True)
    wanted = {schema_file_name(kind, api) for kind, api in kinds}
    missing = [name for name in wanted if not (outdir / name).exists()]
    if not missing:
        return root
    prefix = f"kubernetes_validate/kubernetes-json-schema/v{kube_version}-local-strict/"
    with zipfile.ZipFile(_schema_wheel()) as wheel:
        names = set(wheel.namelist())
        if prefix + "_definitions.json" not in names:
            raise RuntimeError(f"{SCHEMA_PACKAGE} {SCHEMA_PACKAGE_VERSION} has no schemas "
                               f"for Kubernetes {kube_version}")
        definitions = json.loads(wheel.read(prefix + "_definitions.json"))["$defs"]

        def inline(node, seen):
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and "/$defs/" in ref:
                    name = ref.split("/$defs/", 1)[1]
                    if name in seen:
                        return {}
                    rest = {k: inline(v, seen) for k, v in node.items() if k != "$ref"}
                    return {**rest, **inline(definitions[name], seen | {name})}
                return {k: inline(v, seen) for k, v in node.items()}
            if isinstance(node, list):
                return [inline(v, seen) for v in node]
            return node

        for name in missing:
            if prefix + name not in names:
                continue  # an unknown kind: kubeconform reports "could not find schema"
            schema = inline(json.loads(wheel.read(prefix + name)), frozenset())
            tmp = outdir / (name + ".tmp")
            tmp.write_text(json.dumps(schema))
            tmp.replace(outdir / name)
    return root


def promtool():
    """promtool from Debian's prometheus package, taken out of the .deb once (no daemon
    installed or started); None when the package cannot be downloaded."""
    target = tools_dir() / "promtool"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory() as work:
        download = subprocess.run(["apt-get", "download", "prometheus"], cwd=work,
                                  capture_output=True, text=True)
        if download.returncode != 0:
            return None
        deb = next(Path(work).glob("prometheus_*.deb"))
        _run(["dpkg-deb", "-x", str(deb), os.path.join(work, "x")])
        os.replace(os.path.join(work, "x", "usr", "bin", "promtool"), target)
    return target


def install_all():
    """Everything the deploy tests use, for scripts/setup.sh to fetch before the tests run."""
    if promtool() is None:
        print("deploy tests: could not download Debian's prometheus package (promtool)",
              file=sys.stderr)
    go = find_go()
    if go is None:
        print("deploy tests: no Go found: the Helm chart's tests will be skipped",
              file=sys.stderr)
        return
    helm(go)
    kubeconform(go)
    yaml2json(go)
    _schema_wheel()


if __name__ == "__main__":
    install_all()
