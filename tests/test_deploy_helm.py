"""The Helm chart renders with the real `helm`, and every manifest is valid
against Kubernetes' own schemas (kubernetes-validate, strict: unknown fields fail).

helm comes from deploy/tools/install-validation-tools.sh (run by .ci/run, or
here on first use); docs/decisions/0302-chart-validation.md says why.
"""

import os
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "helm" / "guichet-famille"
INSTALL = ROOT / "deploy" / "tools" / "install-validation-tools.sh"
# The oldest Kubernetes the chart declares (Chart.yaml kubeVersion) and the newest known.
KUBE_VERSIONS = ["1.25.0", kubernetes_validate.latest_version()]
DEFAULT_SECRETS = [
    "--set",
    "secrets.secretKey=ci-only-not-a-secret",
    "--set",
    "secrets.databaseUrl=postgres://guichet:ci@postgresql:5432/guichet",
    "--set",
    "secrets.redisUrl=redis://redis:6379/0",
    "--set",
    "secrets.vaultMasterKey=ci-only-vault-key-not-a-secret-xxxxxxxx",
]

pytestmark = pytest.mark.slow


def tools_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    default = cache / "guichet-famille" / "tools"
    return Path(os.environ.get("GUICHET_TOOLS_DIR", default))


@pytest.fixture(scope="session")
def helm() -> str:
    binary = tools_dir() / "bin" / "helm"
    if not binary.exists():
        out = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True, timeout=300)
        if out.returncode != 0 or not binary.exists():
            message = f"helm introuvable et non installable : {out.stderr.strip()[-500:]}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    return str(binary)


def render(helm, *args, release="gf", check=True):
    out = subprocess.run(
        [helm, "template", release, str(CHART), "--namespace", "guichet", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert out.returncode == 0, out.stderr
        return [doc for doc in yaml.safe_load_all(out.stdout) if doc]
    return out


def by_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


VARIANTS = {
    "defaults": DEFAULT_SECRETS,
    "production": ["-f", str(CHART / "ci" / "production-values.yaml")],
    "fixed-replicas": ["-f", str(CHART / "ci" / "fixed-replicas-values.yaml")],
}


@pytest.fixture(scope="module")
def rendered(helm):
    return {name: render(helm, *args) for name, args in VARIANTS.items()}


def test_helm_lint_is_clean(helm):
    out = subprocess.run(
        [helm, "lint", "--strict", str(CHART), *DEFAULT_SECRETS],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_every_manifest_is_valid_for_kubernetes(rendered, variant, kube_version):
    docs = rendered[variant]
    assert len(docs) >= 5
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, kube_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(
                f"{doc['kind']}/{doc['metadata']['name']} ({variant}, {kube_version}): "
                f"{exc.message} at {'/'.join(map(str, exc.path))}"
            )


def test_the_validator_rejects_a_broken_manifest(rendered):
    """Control: strict validation is not a no-op (a misspelt field fails)."""
    web = dict(by_kind(rendered["defaults"], "Deployment")["gf-guichet-famille-web"])
    broken = {**web, "spec": {**web["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBE_VERSIONS[-1], strict=True)


def test_web_worker_beat_and_the_migration_hook(rendered):
    docs = rendered["defaults"]
    deployments = by_kind(docs, "Deployment")
    assert sorted(deployments) == [
        "gf-guichet-famille-beat",
        "gf-guichet-famille-web",
        "gf-guichet-famille-worker",
    ]
    args = {
        name: d["spec"]["template"]["spec"]["containers"][0]["args"]
        for name, d in deployments.items()
    }
    assert args == {
        "gf-guichet-famille-beat": ["beat"],
        "gf-guichet-famille-web": ["web"],
        "gf-guichet-famille-worker": ["worker"],
    }
    # Each pod runs the deploy check first (unsafe settings or a missing secret: no start).
    for name, d in deployments.items():
        init = d["spec"]["template"]["spec"]["initContainers"]
        assert [c["args"] for c in init] == [["check"]], name
        assert init[0]["envFrom"] == d["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    beat = deployments["gf-guichet-famille-beat"]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"

    job = by_kind(docs, "Job")["gf-guichet-famille-migrate"]
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    job_env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "MIGRATE_WORKERS", "value": "2"} in job_env
    # What the job reads exists as hooks of lower weight (first install: the
    # release's own ConfigMap and Secret are not there yet).
    env_from = job["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    hooks = {
        d["metadata"]["name"]: d
        for d in docs
        if d["metadata"].get("annotations", {}).get("helm.sh/hook")
    }
    for ref in env_from:
        name = (ref.get("configMapRef") or ref.get("secretRef"))["name"]
        assert name in hooks
        assert int(hooks[name]["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
            annotations["helm.sh/hook-weight"]
        )


def test_nightly_backup_cronjob(rendered):
    """The documented backup (manage.py backup_town --all through the
    entrypoint's `backup`) runs as a CronJob with the media and its own volume."""
    for variant in ("defaults", "production"):
        docs = rendered[variant]
        cron = by_kind(docs, "CronJob")["gf-guichet-famille-backup"]
        assert cron["spec"]["concurrencyPolicy"] == "Forbid"
        pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["args"] == ["backup"]
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env == {"BACKUP_DIR": "/var/lib/guichet/backups", "BACKUP_KEEP": "7"}
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert mounts["backups"] == env["BACKUP_DIR"]
        assert mounts["media"] == "/var/lib/guichet/media"
        volumes = {v["name"]: v for v in pod["volumes"]}
        claim = volumes["backups"]["persistentVolumeClaim"]["claimName"]
        assert claim in by_kind(docs, "PersistentVolumeClaim")
    production = by_kind(rendered["production"], "CronJob")["gf-guichet-famille-backup"]
    volumes = production["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"]
    media = next(v for v in volumes if v["name"] == "media")
    assert media["persistentVolumeClaim"]["claimName"] == "gf-guichet-famille-media"


def test_probes_of_the_web_pods(rendered):
    web = by_kind(rendered["defaults"], "Deployment")["gf-guichet-famille-web"]
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live/"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready/"
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live/"
    headers = {h["name"]: h["value"] for h in container["readinessProbe"]["httpGet"]["httpHeaders"]}
    # The kubelet calls the pod IP: the Host header must be an allowed host.
    assert headers == {"Host": "guichet-famille.example.fr", "X-Forwarded-Proto": "https"}
    worker = by_kind(rendered["defaults"], "Deployment")["gf-guichet-famille-worker"]
    assert "livenessProbe" in worker["spec"]["template"]["spec"]["containers"][0]
    # Prometheus scrapes the pod by IP: the settings add POD_IP to ALLOWED_HOSTS.
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}


def test_ingress_sends_every_path_of_every_host_to_web(rendered):
    ingress = by_kind(rendered["production"], "Ingress")["gf-guichet-famille"]
    rules = ingress["spec"]["rules"]
    assert [r["host"] for r in rules] == ["portail-famille.example.fr", "guichet.example.org"]
    for rule in rules:
        assert rule["http"]["paths"] == [
            {
                "path": "/",
                "pathType": "Prefix",
                "backend": {
                    "service": {"name": "gf-guichet-famille-web", "port": {"name": "http"}}
                },
            }
        ]
    assert ingress["spec"]["tls"][0]["secretName"] == "portail-famille-tls"


def test_autoscalers_and_disruption_budgets_match_the_deployments(rendered):
    docs = rendered["production"]
    deployments = by_kind(docs, "Deployment")
    hpas = by_kind(docs, "HorizontalPodAutoscaler")
    assert sorted(h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()) == [
        "gf-guichet-famille-web",
        "gf-guichet-famille-worker",
    ]
    assert hpas["gf-guichet-famille-web"]["spec"]["minReplicas"] == 3
    for name in ("gf-guichet-famille-web", "gf-guichet-famille-worker"):
        # Under an HPA the Deployment leaves `replicas` to it.
        assert "replicas" not in deployments[name]["spec"]
    pdbs = by_kind(docs, "PodDisruptionBudget")
    assert len(pdbs) == 2
    for pdb in pdbs.values():
        selector = pdb["spec"]["selector"]["matchLabels"]
        matching = [
            d
            for d in deployments.values()
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matching) == 1, pdb["metadata"]["name"]


def test_services_select_pods_and_name_their_ports(rendered):
    docs = rendered["defaults"]
    deployments = by_kind(docs, "Deployment")
    for service in by_kind(docs, "Service").values():
        selector = service["spec"]["selector"].items()
        pods = [
            d["spec"]["template"]
            for d in deployments.values()
            if selector <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(pods) == 1
        port_names = {p["name"] for p in pods[0]["spec"]["containers"][0]["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names


def test_pods_run_as_non_root_on_a_read_only_filesystem(rendered):
    for variant, docs in rendered.items():
        for doc in docs:
            if doc["kind"] not in ("Deployment", "Job"):
                continue
            pod = doc["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True, variant
            assert pod["automountServiceAccountToken"] is False
            for container in pod["containers"]:
                assert container["securityContext"]["readOnlyRootFilesystem"] is True
                assert container["securityContext"]["allowPrivilegeEscalation"] is False
                assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_existing_secret_is_used_and_no_secret_is_rendered(rendered):
    docs = rendered["production"]
    assert by_kind(docs, "Secret") == {}
    for doc in by_kind(docs, "Deployment").values():
        env_from = doc["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        refs = [r["secretRef"]["name"] for r in env_from if "secretRef" in r]
        assert refs == ["guichet-famille-env"]
    config = by_kind(docs, "ConfigMap")["gf-guichet-famille-config"]["data"]
    assert config["ALLOWED_HOSTS"] == "portail-famille.example.fr,guichet.example.org"
    assert config["DJANGO_SETTINGS_MODULE"] == "portal.settings.prod"
    assert config["EMAIL_USE_TLS"] == "true"
    pvc = by_kind(docs, "PersistentVolumeClaim")["gf-guichet-famille-media"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]


def test_missing_secrets_fail_the_render_with_a_clear_message(helm):
    out = render(helm, check=False)
    assert out.returncode != 0
    assert "secrets.secretKey (or existingSecret) is required" in out.stderr


def test_install_script_is_idempotent(helm):
    out = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout == ""  # nothing fetched the second time
    assert shutil.which(helm)
