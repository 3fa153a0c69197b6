#!/usr/bin/env python3
"""Checks of the Helm chart deploy/helm/s3hc (stdlib only).

Installs helm and kubeconform at pinned versions with `go install` into a cache directory
(deploy_tools.py) when they are missing, then: `helm lint --strict` and `helm template` over the
default values, each file of deploy/helm/examples/ and a few --set variants; kubeconform
(strict, offline, against Kubernetes JSON schemas from the kubernetes-validate wheel) over every
rendering; and assertions on what the chart promises (headless Service, security context,
probes on the admin port's /health, a proxy configuration that uses only documented keys and
that the proxy's own loader accepts when an s3hc-ctl binary is at hand, ...).
Skipped, with the reason printed, only when Go is absent.

Run: python3 tests/deploy/test_helm_chart.py -v
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import deploy_tools  # noqa: E402

REPO = deploy_tools.REPO
CHART = REPO / "deploy" / "helm" / "s3hc"
EXAMPLES = REPO / "deploy" / "helm" / "examples"
CONFIG_DOC = REPO / "docs" / "CONFIGURATION.md"
# The chart's kubeVersion floor, and the newest schemas kubernetes-validate ships.
KUBE_VERSIONS = ("1.30.0", "1.37.0")
RENDER_KUBE_VERSION = "1.34.0"  # a helm built by `go install` defaults to v1.20

GO = deploy_tools.find_go()
HELM = KUBECONFORM = None


def setUpModule():
    global HELM, KUBECONFORM
    if GO is None:
        reason = "Go is not installed (no go on PATH nor /usr/local/go/bin/go): cannot install helm"
        print(f"SKIP test_helm_chart: {reason}", file=sys.stderr)
        raise unittest.SkipTest(reason)
    HELM = deploy_tools.helm(GO)
    KUBECONFORM = deploy_tools.kubeconform(GO)


def documented_keys():
    """The first cell of each row of CONFIGURATION.md's `## Keys` table (as config_docs_test)."""
    keys, in_section = set(), False
    for line in CONFIG_DOC.read_text().splitlines():
        if line.startswith("## "):
            in_section = line.strip() == "## Keys"
            continue
        match = re.match(r"^\|\s*`([a-z0-9_.]+)`\s*\|", line)
        if in_section and match:
            keys.add(match.group(1))
    return keys


def flatten(config, prefix=""):
    """Dotted key -> value; a mapping whose dotted name is a documented key is a leaf."""
    out = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name not in DOC_KEYS:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


DOC_KEYS = documented_keys()


def helm(*args, check=True):
    result = subprocess.run([str(HELM), *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


class Rendering:
    """One `helm template` of the chart: its documents, by kind and name."""

    def __init__(self, label, values_args):
        self.label = label
        self.values_args = list(values_args)
        self.text = helm("template", "t", str(CHART), "--namespace", "s3hc",
                         "--kube-version", RENDER_KUBE_VERSION, *self.values_args).stdout
        self.docs = deploy_tools.load_yaml_documents(GO, self.text)

    def of_kind(self, kind):
        return [d for d in self.docs if d.get("kind") == kind]

    def one(self, kind, name=None):
        found = [d for d in self.of_kind(kind) if name is None or d["metadata"]["name"] == name]
        if len(found) != 1:
            raise AssertionError(f"{self.label}: {len(found)} {kind} named {name}, wanted 1")
        return found[0]

    def proxy_workload(self):
        found = [d for d in self.docs if d.get("kind") in ("Deployment", "DaemonSet")
                 and d["metadata"]["labels"].get("app.kubernetes.io/component") == "proxy"]
        if len(found) != 1:
            raise AssertionError(f"{self.label}: {len(found)} proxy workloads")
        return found[0]

    def control_workload(self):
        found = [d for d in self.of_kind("Deployment")
                 if d["metadata"]["labels"].get("app.kubernetes.io/component") == "control"]
        return found[0] if found else None

    def proxy_config(self):
        text = self.one("ConfigMap", "t-s3hc-config")["data"]["s3hc.yaml"]
        docs = deploy_tools.load_yaml_documents(GO, text)
        if len(docs) != 1 or not isinstance(docs[0], dict):
            raise AssertionError(f"{self.label}: s3hc.yaml is not one YAML mapping:\n{text}")
        return text, docs[0]


def values_file(name):
    return ["-f", str(EXAMPLES / name)]


RENDERINGS = {}


def rendering(label):
    """The renderings the tests share, made once each."""
    if label not in RENDERINGS:
        args = {
            "default": [],
            "daemonset-hostnetwork": values_file("daemonset-hostnetwork.yaml"),
            "small": values_file("small.yaml"),
            # Everything else the chart can make: a PV for an NFS server, the control plane
            # with a generated token, TLS and an emptyDir data directory, hostPath state.
            "nfs-control-tls": ["--set", "cache.nfs.server=nfs.example.internal",
                                "--set", "controlPlane.enabled=true",
                                "--set", "controlPlane.tls.secretName=s3hc-control-tls",
                                "--set", "controlPlane.persistence.enabled=false",
                                "--set", "localState.type=hostPath",
                                "--set", "proxy.ports.https=8443"],
        }[label]
        RENDERINGS[label] = Rendering(label, args)
    return RENDERINGS[label]


ALL = ("default", "daemonset-hostnetwork", "small", "nfs-control-tls")


def container(workload, name):
    for c in workload["spec"]["template"]["spec"]["containers"]:
        if c["name"] == name:
            return c
    raise AssertionError(f"no container {name} in {workload['metadata']['name']}")


def port_of(listen):
    return int(listen.rsplit(":", 1)[1])


class LintAndRender(unittest.TestCase):
    def test_lint_strict(self):
        for args in ([], values_file("daemonset-hostnetwork.yaml"), values_file("small.yaml")):
            with self.subTest(values=args):
                result = helm("lint", "--strict", str(CHART), "--kube-version",
                              RENDER_KUBE_VERSION, *args, check=False)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertIn("0 chart(s) failed", result.stdout)

    def test_every_rendering_is_valid_yaml_with_unique_names(self):
        for label in ALL:
            with self.subTest(rendering=label):
                r = rendering(label)
                self.assertGreater(len(r.docs), 4)
                seen = set()
                for d in r.docs:
                    key = (d["kind"], d["metadata"]["name"])
                    self.assertNotIn(key, seen, f"{label}: {key} rendered twice")
                    seen.add(key)

    def test_kubeconform_strict_offline(self):
        for kube_version in KUBE_VERSIONS:
            for label in ALL:
                with self.subTest(kube=kube_version, rendering=label):
                    r = rendering(label)
                    self._kubeconform(kube_version, r.docs, r.text, expect_ok=True)

    def test_kubeconform_rejects_a_broken_manifest(self):
        # The negative control: the schemas really are applied (an unknown field, a wrong
        # type), so a pass above means something.
        r = rendering("default")
        workload = json.loads(json.dumps(r.proxy_workload()))
        container(workload, "proxy")["securityContext"]["dropCapabilities"] = ["ALL"]
        workload["spec"]["replicas"] = "two"
        text = json.dumps(workload)
        output = self._kubeconform(KUBE_VERSIONS[-1], [workload], text, expect_ok=False)
        self.assertIn("dropCapabilities", output)
        self.assertIn("replicas", output)

    def _kubeconform(self, kube_version, docs, text, expect_ok):
        kinds = {(d["kind"], d["apiVersion"]) for d in docs}
        root = deploy_tools.standalone_schemas(kube_version, kinds)
        location = (str(root) + "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}"
                    "/{{ .ResourceKind }}{{ .KindSuffix }}.json")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write(text)
            f.flush()
            result = subprocess.run(
                [str(KUBECONFORM), "-strict", "-summary", "-kubernetes-version", kube_version,
                 "-schema-location", location, f.name], capture_output=True, text=True)
        output = result.stdout + result.stderr
        if expect_ok:
            self.assertEqual(result.returncode, 0, output)
            # Every document validated: none skipped for want of a schema.
            self.assertRegex(output, rf"Valid: {len(docs)}, Invalid: 0, Errors: 0, Skipped: 0")
        else:
            self.assertNotEqual(result.returncode, 0, output)
        return output


class ProxyWorkload(unittest.TestCase):
    def test_kind_switch(self):
        self.assertEqual(rendering("default").proxy_workload()["kind"], "Deployment")
        self.assertEqual(rendering("default").proxy_workload()["spec"]["replicas"], 2)
        self.assertEqual(rendering("small").proxy_workload()["kind"], "Deployment")
        self.assertEqual(rendering("daemonset-hostnetwork").proxy_workload()["kind"], "DaemonSet")
        self.assertNotIn("replicas", rendering("daemonset-hostnetwork").proxy_workload()["spec"])

    def test_daemonset_example_uses_host_network(self):
        r = rendering("daemonset-hostnetwork")
        pod = r.proxy_workload()["spec"]["template"]["spec"]
        self.assertIs(pod["hostNetwork"], True)
        # Cluster names (the control plane's Service) still resolve from the host network.
        self.assertEqual(pod["dnsPolicy"], "ClusterFirstWithHostNet")
        ports = {p["name"]: p["containerPort"] for p in container(r.proxy_workload(), "proxy")["ports"]}
        self.assertEqual(ports, {"http": 80, "https": 443, "admin": 9090})
        _, config = r.proxy_config()
        self.assertEqual(port_of(config["listen"]), 80)
        self.assertEqual(port_of(config["passthrough"]["listen"]), 443)
        # Ports below 1024 as a non-root user: the capability, and escalation allowed so the
        # image's file capability on s3hc-proxy takes effect.
        sc = container(r.proxy_workload(), "proxy")["securityContext"]
        self.assertIs(sc["allowPrivilegeEscalation"], True)
        self.assertIs(rendering("default").proxy_workload()["spec"]["template"]["spec"]["hostNetwork"], False)

    def test_security_context(self):
        for label in ALL:
            with self.subTest(rendering=label):
                r = rendering(label)
                pod = r.proxy_workload()["spec"]["template"]["spec"]
                self.assertIs(pod["securityContext"]["runAsNonRoot"], True)
                self.assertNotEqual(pod["securityContext"].get("runAsUser"), 0)
                self.assertIs(pod["automountServiceAccountToken"], False)
                sc = container(r.proxy_workload(), "proxy")["securityContext"]
                self.assertIs(sc["runAsNonRoot"], True)
                self.assertIs(sc["readOnlyRootFilesystem"], True)
                self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
                self.assertEqual(sc["capabilities"]["add"], ["NET_BIND_SERVICE"])
                self.assertNotIn("privileged", sc)
                low = any(p["containerPort"] < 1024 for p in container(r.proxy_workload(), "proxy")["ports"])
                self.assertIs(sc["allowPrivilegeEscalation"], low)
                control = r.control_workload()
                if control:
                    csc = container(control, "control")["securityContext"]
                    self.assertIs(csc["runAsNonRoot"], True)
                    self.assertIs(csc["readOnlyRootFilesystem"], True)
                    self.assertIs(csc["allowPrivilegeEscalation"], False)
                    self.assertEqual(csc["capabilities"], {"drop": ["ALL"]})

    def test_probes_hit_health_on_the_admin_port(self):
        for label in ALL:
            with self.subTest(rendering=label):
                r = rendering(label)
                proxy = container(r.proxy_workload(), "proxy")
                ports = {p["name"]: p["containerPort"] for p in proxy["ports"]}
                _, config = r.proxy_config()
                admin = port_of(config["admin_listen"])
                # Reachable by the kubelet: not loopback.
                self.assertFalse(config["admin_listen"].startswith("127."), config["admin_listen"])
                for probe in ("livenessProbe", "readinessProbe"):
                    get = proxy[probe]["httpGet"]
                    self.assertEqual(get["path"], "/health")
                    port = ports[get["port"]] if isinstance(get["port"], str) else get["port"]
                    self.assertEqual(port, admin, f"{probe} port")
                self.assertEqual(ports["http"], port_of(config["listen"]))

    def test_stop_outlasts_the_shutdown_grace(self):
        for label in ALL:
            with self.subTest(rendering=label):
                r = rendering(label)
                pod = r.proxy_workload()["spec"]["template"]["spec"]
                _, config = r.proxy_config()
                grace_ms = config.get("shutdown_grace_ms", 10000)
                sleep = container(r.proxy_workload(), "proxy").get("lifecycle", {}).get(
                    "preStop", {}).get("sleep", {}).get("seconds", 0)
                self.assertGreater(pod["terminationGracePeriodSeconds"], grace_ms / 1000 + sleep)

    def test_resources_and_disruption_budget(self):
        for label in ALL:
            with self.subTest(rendering=label):
                r = rendering(label)
                resources = container(r.proxy_workload(), "proxy")["resources"]
                self.assertIn("memory", resources["limits"])
                self.assertIn("cpu", resources["requests"])
                pdb = r.one("PodDisruptionBudget")
                labels = r.proxy_workload()["spec"]["template"]["metadata"]["labels"]
                for k, v in pdb["spec"]["selector"]["matchLabels"].items():
                    self.assertEqual(labels.get(k), v)
                self.assertEqual(r.proxy_workload()["spec"]["selector"]["matchLabels"],
                                 pdb["spec"]["selector"]["matchLabels"])


class HeadlessService(unittest.TestCase):
    def test_headless_service_selects_the_proxies(self):
        for label in ALL:
            with self.subTest(rendering=label):
                r = rendering(label)
                services = [s for s in r.of_kind("Service")
                            if s["metadata"]["labels"]["app.kubernetes.io/component"] == "proxy"]
                self.assertEqual(len(services), 1)
                svc = services[0]
                self.assertEqual(svc["spec"]["clusterIP"], "None")
                self.assertIs(svc["spec"].get("publishNotReadyAddresses", False), False)
                labels = r.proxy_workload()["spec"]["template"]["metadata"]["labels"]
                for k, v in svc["spec"]["selector"].items():
                    self.assertEqual(labels.get(k), v)
                proxy_ports = {p["name"]: p["containerPort"]
                               for p in container(r.proxy_workload(), "proxy")["ports"]}
                for port in svc["spec"]["ports"]:
                    self.assertEqual(port["port"], proxy_ports[port["targetPort"]])
                self.assertIn("http", [p["name"] for p in svc["spec"]["ports"]])


class ProxyConfig(unittest.TestCase):
    def test_config_uses_only_documented_keys(self):
        self.assertIn("cache.mirror_dir", DOC_KEYS)  # the table was found
        for label in ALL:
            with self.subTest(rendering=label):
                _, config = rendering(label).proxy_config()
                unknown = sorted(set(flatten(config)) - DOC_KEYS)
                self.assertEqual(unknown, [], "keys not in docs/CONFIGURATION.md's ## Keys")

    def test_config_accepted_by_the_proxys_loader(self):
        ctl = os.environ.get("S3HC_CTL_BIN") or str(REPO / "build" / "cli" / "s3hc-ctl")
        if not os.access(ctl, os.X_OK):
            self.skipTest(f"no s3hc-ctl binary at {ctl} (set S3HC_CTL_BIN): loader check skipped")
        for label in ALL:
            with self.subTest(rendering=label):
                text, _ = rendering(label).proxy_config()
                with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
                    f.write(text)
                    f.flush()
                    result = subprocess.run([ctl, "config", "validate", "-f", f.name],
                                            capture_output=True, text=True)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr + text)

    def test_writable_paths_are_on_volumes(self):
        # readOnlyRootFilesystem: whatever the proxy writes must be under a writable mount.
        for label in ALL:
            with self.subTest(rendering=label):
                r = rendering(label)
                mounts = {m["mountPath"]: m for m in container(r.proxy_workload(), "proxy")["volumeMounts"]}
                _, config = r.proxy_config()
                flat = flatten(config)
                written = [flat[k] for k in ("cache.dir", "cache.mirror_dir", "control.policy_file",
                                             "observability.access_log", "ports_file")
                           if flat.get(k)]
                self.assertIn("cache.dir", flat, "caching is on in every rendering")
                for path in written:
                    under = [m for p, m in mounts.items() if path == p or path.startswith(p.rstrip("/") + "/")]
                    self.assertTrue(under, f"{path} is on no volume")
                    self.assertFalse(any(m.get("readOnly") for m in under), f"{path} is read-only")
                # Config file, policy file and the control plane's CA come from read-only mounts.
                read = [flat[k] for k in ("cache.policy_file", "control.ca_file") if flat.get(k)]
                read.append("/etc/s3hc/config/s3hc.yaml")
                for path in read:
                    self.assertTrue(any(path.startswith(p.rstrip("/") + "/") for p in mounts), path)
                args = container(r.proxy_workload(), "proxy")["args"]
                self.assertEqual(args[:2], ["-c", "/etc/s3hc/config/s3hc.yaml"])

    def test_cache_and_mirror_volumes(self):
        pod = rendering("default").proxy_workload()["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        self.assertEqual(volumes["cache"]["persistentVolumeClaim"]["claimName"], "t-s3hc-cache")
        self.assertIn("emptyDir", volumes["local-state"])
        pvc = rendering("default").one("PersistentVolumeClaim", "t-s3hc-cache")
        self.assertEqual(pvc["spec"]["accessModes"], ["ReadWriteMany"])

        ds = rendering("daemonset-hostnetwork")
        volumes = {v["name"]: v for v in ds.proxy_workload()["spec"]["template"]["spec"]["volumes"]}
        self.assertEqual(volumes["cache"]["persistentVolumeClaim"]["claimName"], "s3hc-nfs-cache")
        self.assertEqual(volumes["local-state"]["hostPath"]["path"], "/var/lib/s3hc")
        self.assertEqual([p for p in ds.of_kind("PersistentVolumeClaim")
                          if p["metadata"]["labels"]["app.kubernetes.io/component"] == "cache"], [],
                         "an existing claim: the chart makes none")

        small = rendering("small").one("PersistentVolumeClaim", "t-s3hc-cache")
        self.assertEqual(small["spec"]["storageClassName"], "nfs-client")
        self.assertEqual(small["spec"]["accessModes"], ["ReadWriteMany"])

    def test_nfs_server_gets_a_bound_volume(self):
        r = rendering("nfs-control-tls")
        pv = r.one("PersistentVolume")
        pvc = r.one("PersistentVolumeClaim", "t-s3hc-cache")
        self.assertEqual(pv["spec"]["nfs"]["server"], "nfs.example.internal")
        self.assertIn("hard", pv["spec"]["mountOptions"])
        self.assertIn("lookupcache=positive", pv["spec"]["mountOptions"])
        self.assertEqual(pv["spec"]["claimRef"], {"namespace": "s3hc", "name": "t-s3hc-cache"})
        self.assertEqual(pvc["spec"]["volumeName"], pv["metadata"]["name"])
        self.assertEqual(pvc["spec"]["storageClassName"], "")
        self.assertEqual(pv["spec"]["storageClassName"], "")

    def test_policy_configmap(self):
        r = rendering("small")
        _, config = r.proxy_config()
        self.assertEqual(config["cache"]["policy_file"], "/etc/s3hc/policy/policy.yaml")
        text = r.one("ConfigMap", "t-s3hc-policy")["data"]["policy.yaml"]
        policy = deploy_tools.load_yaml_documents(GO, text)[0]
        self.assertEqual(policy["rules"][1]["bucket"], "scratch")
        proxy = os.environ.get("S3HC_PROXY_BIN") or str(REPO / "build" / "dataplane" / "s3hc-proxy")
        if os.access(proxy, os.X_OK):
            with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
                f.write(text)
                f.flush()
                result = subprocess.run([proxy, "--check-policy", f.name],
                                        capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        else:
            print(f"note: no s3hc-proxy at {proxy}: policy not checked by --check-policy",
                  file=sys.stderr)
        self.assertNotIn("policy_file", config.get("control", {}))
        self.assertEqual(rendering("default").of_kind("ConfigMap")[0]["metadata"]["name"], "t-s3hc-config")
        self.assertEqual(len(rendering("default").of_kind("ConfigMap")), 1)


class ControlPlane(unittest.TestCase):
    def test_absent_by_default(self):
        r = rendering("default")
        self.assertIsNone(r.control_workload())
        self.assertNotIn("control", r.proxy_config()[1])
        self.assertEqual(r.of_kind("Secret"), [])

    def test_example_with_existing_token_secret(self):
        r = rendering("daemonset-hostnetwork")
        control = r.control_workload()
        self.assertEqual(control["spec"]["replicas"], 1)
        self.assertEqual(control["spec"]["strategy"]["type"], "Recreate")
        c = container(control, "control")
        args = c["args"]
        token_file = args[args.index("--token-file") + 1]
        self.assertEqual(args[args.index("--listen") + 1], "0.0.0.0:7070")
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        self.assertEqual(token_file, mounts["token"] + "/token")
        self.assertEqual(args[args.index("--data-dir") + 1], mounts["data"])
        volumes = {v["name"]: v for v in control["spec"]["template"]["spec"]["volumes"]}
        self.assertEqual(volumes["token"]["secret"]["secretName"], "s3hc-control-token")
        self.assertEqual(r.of_kind("Secret"), [], "an existing Secret: the chart makes none")
        svc = r.one("Service", "t-s3hc-control")
        self.assertEqual(svc["spec"]["ports"][0]["port"], 7070)
        self.assertEqual(svc["spec"]["selector"], control["spec"]["selector"]["matchLabels"])
        self.assertEqual(c["ports"][0]["containerPort"], 7070)
        _, config = r.proxy_config()
        self.assertEqual(config["control"]["endpoint"], "t-s3hc-control.s3hc.svc:7070")
        self.assertTrue(config["control"]["policy_file"].startswith("/var/lib/s3hc/"))
        self.assertNotIn("policy_file", config["cache"])

    def test_generated_token_and_tls(self):
        r = rendering("nfs-control-tls")
        secret = r.one("Secret", "t-s3hc-control-token")
        import base64
        self.assertGreaterEqual(len(base64.b64decode(secret["data"]["token"])), 16)
        args = container(r.control_workload(), "control")["args"]
        self.assertIn("--tls-cert", args)
        self.assertIn("--tls-key", args)
        _, config = r.proxy_config()
        self.assertEqual(config["control"]["ca_file"], "/etc/s3hc/control-ca/ca.crt")
        volumes = {v["name"]: v for v in r.control_workload()["spec"]["template"]["spec"]["volumes"]}
        self.assertIn("emptyDir", volumes["data"])

    def test_invalid_values_are_refused(self):
        for args, message in (
            (["--set", "policy.enabled=true", "--set", "controlPlane.enabled=true"], "exclude each other"),
            (["--set", "proxy.kind=StatefulSet"], "proxy.kind must be"),
            (["--set", "cache.type=nfs"], "cache.type must be"),
            (["--set", "controlPlane.enabled=true", "--set", "controlPlane.token.value=short"], "16 characters"),
        ):
            with self.subTest(args=args):
                result = helm("template", "t", str(CHART), "--kube-version", RENDER_KUBE_VERSION,
                              *args, check=False)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(message, result.stderr)


class ValuesDocumented(unittest.TestCase):
    def test_every_key_has_a_comment(self):
        """Each key of values.yaml has a comment on the line(s) above or at its end, unless it
        lies inside a value documented as a whole (a key whose comment starts with "-- ")."""
        lines = (CHART / "values.yaml").read_text().splitlines()
        undocumented = []
        whole = []  # indentation of the enclosing keys documented as a whole
        previous = ""
        for number, line in enumerate(lines, 1):
            stripped = line.strip()
            if not stripped:
                previous = ""
                continue
            if stripped.startswith("#"):
                previous = previous or stripped  # the first line of the comment block
                continue
            indent = len(line) - len(line.lstrip())
            while whole and indent <= whole[-1]:
                whole.pop()
            match = re.match(r"^\s*(- )?([A-Za-z0-9_.-]+):(\s|$)", line)
            if match and not match.group(1):
                inline = " #" in line
                if not whole and not previous and not inline:
                    undocumented.append(f"{number}: {stripped}")
                if previous.startswith("# --") and not whole:
                    whole.append(indent)
            previous = ""
        self.assertEqual(undocumented, [])

    def test_readme_mentions_every_top_level_key(self):
        readme = (CHART / "README.md").read_text()
        for line in (CHART / "values.yaml").read_text().splitlines():
            match = re.match(r"^([A-Za-z]+):", line)
            if match:
                self.assertIn(f"`{match.group(1)}", readme)


if __name__ == "__main__":
    unittest.main()
