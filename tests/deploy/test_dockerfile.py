#!/usr/bin/env python3
"""Checks of deploy/docker/Dockerfile (stdlib only).

Always (static): the stages and targets, every COPY source exists in the repository, the
runtime images run as a non-root user with EXPOSE, HEALTHCHECK on /health and the right
ENTRYPOINT, the build stage installs what scripts/setup.sh installs to build, every Debian
package named exists in Debian 12 (`apt-cache show`, when apt-cache is there), and the runtime
package list covers every shared library of the tree's built binaries (ldd + dpkg -S, when
they are built).

On request, with a container builder (docker with a daemon, else buildah or podman):
  S3HC_DEPLOY_RUNTIME_CHECK=1  builds the build-deps and runtime-base stages (no compiling):
                               runs CMake's configure step over what the build stage copies
                               in, and the tree's built binaries in runtime-base as uid 10001;
  S3HC_DEPLOY_BUILD_IMAGE=1    builds the proxy and control images in full (compiles s3hc,
                               about as long as scripts/setup.sh's first build) and runs
                               --version in each.
The base is $S3HC_DEPLOY_DEBIAN_IMAGE, else debian:12 when it can be pulled, else a Debian 12
made with debootstrap (root) and imported as localhost/s3hc-debian:12.

Run: python3 tests/deploy/test_dockerfile.py -v
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import deploy_tools  # noqa: E402

REPO = deploy_tools.REPO
DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
# scripts/setup.sh's packages that only the tests and benchmarks use.
TEST_ONLY_PACKAGES = {"nginx", "libnginx-mod-stream", "wrk", "curl", "procps", "openssl", "varnish"}
# Libraries of Debian 12's base image or pulled in by RUNTIME_PACKAGES' own dependencies.
BASE_OR_INDIRECT = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libbz2-1.0", "libzstd1",
                    "libsnappy1v5", "libgflags2.2", "libabsl20220623", "libre2-9"}


def logical_lines(text):
    """Dockerfile instructions: continuation lines joined, comments and blanks dropped."""
    out, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1]
            continue
        out.append((current + line).strip())
        current = ""
    if current:
        out.append(current.strip())
    return out


class Stage:
    def __init__(self, base, name):
        self.base, self.name, self.instructions = base, name, []

    def all(self, keyword):
        return [rest for kw, rest in self.instructions if kw == keyword]


def parse():
    global_args, stages = {}, []
    for line in logical_lines(DOCKERFILE.read_text()):
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            match = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
            stages.append(Stage(match.group(1), match.group(2)))
        elif stages:
            stages[-1].instructions.append((keyword, rest))
        elif keyword == "ARG":
            name, _, value = rest.partition("=")
            global_args[name] = value.strip().strip('"')
    return global_args, stages


GLOBAL_ARGS, STAGES = parse()
BY_NAME = {s.name: s for s in STAGES}


def apt_packages(stage):
    """Packages of a stage's `apt-get install` commands (ARG references expanded)."""
    packages = []
    for run in stage.all("RUN"):
        for command in re.split(r"&&|;", run):
            words = shlex.split(command.replace("${RUNTIME_PACKAGES}",
                                                GLOBAL_ARGS.get("RUNTIME_PACKAGES", "")))
            words = [w for w in words if "=" not in w or w.startswith("-")]  # env assignments
            if words[:2] == ["apt-get", "install"]:
                packages += [w for w in words[2:] if not w.startswith("-")]
    return packages


def setup_build_packages():
    text = (REPO / "scripts" / "setup.sh").read_text()
    body = re.search(r"debian_packages=\((.*?)\)", text, re.S).group(1)
    words = [w for line in body.splitlines() for w in line.split("#")[0].split()]
    return set(words) - TEST_ONLY_PACKAGES


class Structure(unittest.TestCase):
    def test_stages_and_targets(self):
        self.assertEqual([s.name for s in STAGES],
                         ["build-deps", "build", "runtime-base", "control", "proxy"])
        self.assertEqual(STAGES[-1].name, "proxy", "the default target is the proxy")
        for stage in (BY_NAME["build-deps"], BY_NAME["runtime-base"]):
            self.assertEqual(stage.base, "${DEBIAN_IMAGE}")
        self.assertEqual(GLOBAL_ARGS["DEBIAN_IMAGE"], "debian:12")
        self.assertTrue(BY_NAME["build"].all("RUN")[0].startswith("cmake -S /src -B /build -G Ninja"))

    def test_copy_sources_exist(self):
        copies = 0
        for stage in STAGES:
            for rest in stage.all("COPY"):
                words = rest.split()
                if any(w.startswith("--from=") for w in words):
                    continue
                for source in [w for w in words if not w.startswith("--")][:-1]:
                    copies += 1
                    self.assertTrue((REPO / source).exists(), f"COPY {source}: not in the repository")
        self.assertGreater(copies, 5)

    def test_copy_from_names_a_stage_and_a_built_file(self):
        built = {"/out/s3hc-proxy", "/out/s3hc-control", "/out/s3hc-ctl"}
        for stage in STAGES:
            for rest in stage.all("COPY"):
                match = re.match(r"--from=(\S+)\s+(.*)", rest)
                if match:
                    self.assertIn(match.group(1), BY_NAME)
                    for source in match.group(2).split()[:-1]:
                        self.assertIn(source, built)

    def test_build_copies_what_cmake_configures(self):
        # The top-level CMakeLists.txt adds these directories: each must be copied in.
        copied = {w.rstrip("/") for rest in BY_NAME["build"].all("COPY") for w in rest.split()[:-1]}
        top = (REPO / "CMakeLists.txt").read_text()
        for directory in re.findall(r"add_subdirectory\((\w+)\)", top):
            self.assertIn(directory, copied)

    def test_runtime_images_run_as_non_root(self):
        for name, binary in (("proxy", "s3hc-proxy"), ("control", "s3hc-control")):
            with self.subTest(target=name):
                stage = BY_NAME[name]
                users = stage.all("USER")
                self.assertTrue(users, f"{name}: no USER")
                user = users[-1].split(":")[0]
                self.assertNotIn(user, ("0", "root"))
                kinds = [kw for kw, _ in stage.instructions]
                self.assertLess(kinds.index("USER"), kinds.index("ENTRYPOINT"))
                self.assertEqual(stage.all("ENTRYPOINT"), [f'["/usr/local/bin/{binary}"]'])
                self.assertTrue(stage.all("EXPOSE"))
                self.assertTrue(stage.all("HEALTHCHECK"))
        self.assertIn("--uid 10001", " ".join(BY_NAME["runtime-base"].all("RUN")))

    def test_proxy_healthcheck_hits_health_on_the_admin_port(self):
        stage = BY_NAME["proxy"]
        health = stage.all("HEALTHCHECK")[-1]
        match = re.search(r"http://127\.0\.0\.1:(\d+)/health", health)
        self.assertTrue(match, health)
        exposed = {int(p) for rest in stage.all("EXPOSE") for p in rest.split()}
        self.assertTrue({8080, 9090, 80, 443} <= exposed)
        # The configuration the image starts with has its admin listener on that port.
        self.assertIn("config/s3hc.example.yaml /etc/s3hc/s3hc.yaml", stage.all("COPY"))
        example = (REPO / "config" / "s3hc.example.yaml").read_text()
        admin = re.search(r"^admin_listen:\s*(\S+)", example, re.M).group(1)
        self.assertEqual(int(admin.rsplit(":", 1)[1]), int(match.group(1)))
        self.assertIn("curl", apt_packages(BY_NAME["runtime-base"]))
        self.assertIn("setcap cap_net_bind_service=+ep /usr/local/bin/s3hc-proxy", " ".join(stage.all("RUN")))

    def test_build_stage_installs_setup_shs_build_packages(self):
        missing = setup_build_packages() - set(apt_packages(BY_NAME["build-deps"]))
        self.assertEqual(missing, set(), "scripts/setup.sh builds with these; the Dockerfile lacks them")

    def test_dockerignore_keeps_build_trees_out(self):
        ignore = (REPO / "deploy" / "docker" / "Dockerfile.dockerignore").read_text().split()
        for entry in (".git", "build", "build-*"):
            self.assertIn(entry, ignore)


class DebianPackages(unittest.TestCase):
    def test_packages_exist_in_debian(self):
        if not shutil.which("apt-cache"):
            self.skipTest("no apt-cache here: package names not checked")
        names = set()
        for stage in STAGES:
            names.update(apt_packages(stage))
        self.assertGreater(len(names), 20)
        result = subprocess.run(["apt-cache", "show", "--no-all-versions", *sorted(names)],
                                capture_output=True, text=True)
        found = set(re.findall(r"^Package: (\S+)", result.stdout, re.M))
        self.assertEqual(sorted(names - found), [], result.stderr[-2000:])
        release = Path("/etc/os-release").read_text() if Path("/etc/os-release").exists() else ""
        if 'VERSION_ID="12"' not in release:
            print("note: this host is not Debian 12: packages checked against its own archive",
                  file=sys.stderr)

    def test_runtime_packages_cover_the_built_binaries(self):
        binaries = [os.environ.get("S3HC_PROXY_BIN") or str(REPO / "build/dataplane/s3hc-proxy"),
                    os.environ.get("S3HC_CONTROL_BIN") or str(REPO / "build/controlplane/s3hc-control"),
                    os.environ.get("S3HC_CTL_BIN") or str(REPO / "build/cli/s3hc-ctl")]
        binaries = [b for b in binaries if os.access(b, os.X_OK)]
        if not binaries or not shutil.which("ldd") or not shutil.which("dpkg"):
            self.skipTest("no built binaries (or no ldd/dpkg): runtime libraries not checked")
        runtime = set(GLOBAL_ARGS["RUNTIME_PACKAGES"].split()) | BASE_OR_INDIRECT
        libs = set()
        for binary in binaries:
            out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
            libs.update(re.findall(r"=> (/\S+)", out))
        self.assertTrue(libs)
        # One dpkg -S for all (it is slow); a library is looked up by its real path, whose
        # directory may be /usr/lib or /lib (merged /usr).
        paths = sorted({os.path.realpath(lib) for lib in libs} | libs)
        result = subprocess.run(["dpkg", "-S", *paths], capture_output=True, text=True)
        owners = {}
        for line in result.stdout.splitlines():
            package, _, path = line.partition(": ")
            owners[path.strip()] = package.split(":")[0].split(",")[0].strip()
        missing = {}
        for lib in libs:
            owner = owners.get(os.path.realpath(lib)) or owners.get(lib)
            if owner is None:
                continue  # not from a package (a library built in the tree)
            if owner not in runtime:
                missing[owner] = lib
        self.assertEqual(missing, {}, "libraries whose packages RUNTIME_PACKAGES lacks")


# --- Real builds, on request ------------------------------------------------------------------

def builder():
    """(command, extra build args, run-in-image function) of a working container builder."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "info"], capture_output=True).returncode == 0:
        return "docker"
    for tool in ("buildah", "podman"):
        if shutil.which(tool):
            return tool
    return None


def base_image(tool):
    if os.environ.get("S3HC_DEPLOY_DEBIAN_IMAGE"):
        return os.environ["S3HC_DEPLOY_DEBIAN_IMAGE"]
    pull = [tool, "pull", "debian:12"] if tool != "buildah" else ["buildah", "pull", "debian:12"]
    try:
        if subprocess.run(pull, capture_output=True, timeout=120).returncode == 0:
            return "debian:12"
    except subprocess.TimeoutExpired:
        pass
    local = "localhost/s3hc-debian:12"
    listing = subprocess.run([tool, "images", "-q", local], capture_output=True, text=True)
    if listing.stdout.strip():
        return local
    if not shutil.which("debootstrap") or os.geteuid() != 0:
        raise unittest.SkipTest("debian:12 cannot be pulled and no debootstrap as root: "
                                "set S3HC_DEPLOY_DEBIAN_IMAGE")
    rootfs = deploy_tools.tools_dir() / "debian-12-rootfs"
    if not (rootfs / "etc" / "debian_version").exists():
        subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs),
                        "http://deb.debian.org/debian"], check=True, capture_output=True)
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    importer = [tool, "import", "-", local] if tool != "buildah" else ["podman", "import", "-", local]
    subprocess.run(importer, stdin=tar.stdout, check=True, capture_output=True)
    tar.wait()
    return local


def build(tool, target, tag, context):
    cmd = [tool, "build"] if tool != "buildah" else ["buildah", "bud"]
    if tool in ("buildah", "podman"):
        cmd += ["--isolation", "chroot", "--layers"]  # no OCI runtime needed
    cmd += ["-f", str(DOCKERFILE), "--target", target, "-t", tag,
            "--build-arg", f"DEBIAN_IMAGE={base_image(tool)}", str(context)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


def run_in(tool, image, command, mounts=(), user="10001:10001"):
    if tool == "docker":
        cmd = ["docker", "run", "--rm", "--user", user, "--entrypoint", command[0]]
        for src, dst in mounts:
            cmd += ["-v", f"{src}:{dst}:ro"]
        return subprocess.run(cmd + [image, *command[1:]], capture_output=True, text=True)
    # buildah/podman: a working container run under chroot isolation (no OCI runtime).
    ctr = subprocess.run(["buildah", "from", image], capture_output=True, text=True, check=True).stdout.strip()
    try:
        cmd = ["buildah", "run", "--isolation", "chroot", "--user", user]
        for src, dst in mounts:
            cmd += ["-v", f"{src}:{dst}:ro"]
        return subprocess.run(cmd + [ctr, "--", *command], capture_output=True, text=True)
    finally:
        subprocess.run(["buildah", "rm", ctr], capture_output=True)


class ImageBuild(unittest.TestCase):
    @unittest.skipUnless(os.environ.get("S3HC_DEPLOY_RUNTIME_CHECK") == "1",
                         "set S3HC_DEPLOY_RUNTIME_CHECK=1 to build the runtime stage")
    def test_runtime_stage_runs_the_built_binaries(self):
        tool = builder()
        if tool is None:
            self.skipTest("no docker daemon, buildah nor podman")
        build_dir = Path(os.environ.get("S3HC_BUILD_DIR") or REPO / "build")
        if not (build_dir / "dataplane" / "s3hc-proxy").exists():
            self.skipTest(f"no built binaries in {build_dir}")
        # Context: deploy/docker alone (the stage copies nothing from the tree).
        build(tool, "runtime-base", "localhost/s3hc-runtime-base:test", DOCKERFILE.parent)
        for binary in ("dataplane/s3hc-proxy", "controlplane/s3hc-control", "cli/s3hc-ctl"):
            with self.subTest(binary=binary):
                result = run_in(tool, "localhost/s3hc-runtime-base:test", [f"/b/{binary}", "--version"],
                                mounts=[(str(build_dir), "/b")])
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertRegex(result.stdout.strip(), r"^\d+\.\d+\.\d+")

    @unittest.skipUnless(os.environ.get("S3HC_DEPLOY_RUNTIME_CHECK") == "1",
                         "set S3HC_DEPLOY_RUNTIME_CHECK=1 to build the build-deps stage")
    def test_build_stage_configures(self):
        # The build stage up to its compile: build-deps, then CMake's configure step over
        # exactly what the build stage copies in (a file CMake needs and the Dockerfile does
        # not copy fails here), and Ninja's plan for the three targets.
        tool = builder()
        if tool is None:
            self.skipTest("no docker daemon, buildah nor podman")
        build(tool, "build-deps", "localhost/s3hc-build-deps:test", DOCKERFILE.parent)
        with tempfile.TemporaryDirectory() as context:
            for rest in BY_NAME["build"].all("COPY"):
                for source in rest.split()[:-1]:
                    src = REPO / source.rstrip("/")
                    dst = Path(context) / source.rstrip("/")
                    if src.is_dir():
                        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
                    else:
                        shutil.copy2(src, dst)
            script = ("cmake -S /src -B /tmp/configure-check -G Ninja -DCMAKE_BUILD_TYPE=Release"
                      " && ninja -C /tmp/configure-check -n s3hc-proxy s3hc-control s3hc-ctl"
                      " && rm -rf /tmp/configure-check")
            result = run_in(tool, "localhost/s3hc-build-deps:test", ["sh", "-c", script],
                            mounts=[(context, "/src")], user="0:0")
        self.assertEqual(result.returncode, 0, result.stdout[-4000:] + result.stderr[-4000:])
        self.assertIn("Generating done", result.stdout)

    @unittest.skipUnless(os.environ.get("S3HC_DEPLOY_BUILD_IMAGE") == "1",
                         "set S3HC_DEPLOY_BUILD_IMAGE=1 to build the images (compiles s3hc)")
    def test_images_build_and_start(self):
        tool = builder()
        if tool is None:
            self.skipTest("no docker daemon, buildah nor podman")
        for target, binary in (("proxy", "s3hc-proxy"), ("control", "s3hc-control")):
            with self.subTest(target=target):
                tag = f"localhost/s3hc-{target}:test"
                build(tool, target, tag, REPO)
                result = run_in(tool, tag, [f"/usr/local/bin/{binary}", "--version"])
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                result = run_in(tool, tag, ["/usr/local/bin/s3hc-ctl", "--version"])
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        result = run_in(tool, "localhost/s3hc-proxy:test",
                        ["/usr/local/bin/s3hc-ctl", "config", "validate", "-f", "/etc/s3hc/s3hc.yaml"])
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
