"""deploy/: the compose stack, the nginx configurations, the Dockerfile and the
container scripts. No Docker engine runs here: the compose file is checked
against the Compose Specification's JSON schema and read for what must hold
(order of start, health checks, one beat); nginx files are parsed with
crossplane (NGINX Inc.'s parser: directive contexts and argument counts).
"""

import json
import os
import re
import subprocess
from pathlib import Path

import crossplane
import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
INSTALL = DEPLOY / "tools" / "install-validation-tools.sh"
LONG_RUNNING = {"db", "redis", "web", "worker", "beat", "backup", "nginx"}


def tools_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    default = cache / "guichet-famille" / "tools"
    return Path(os.environ.get("GUICHET_TOOLS_DIR", default))


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def compose_schema():
    path = tools_dir() / "compose-spec.json"
    if not path.exists():
        out = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True, timeout=300)
        if out.returncode != 0 or not path.exists():
            message = f"schéma Compose introuvable : {out.stderr.strip()[-500:]}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    return json.loads(path.read_text())


# --- compose -----------------------------------------------------------------


@pytest.mark.slow
def test_compose_file_follows_the_compose_specification(compose, compose_schema):
    # The packaged schema (compose-spec 2021) predates the top-level `name`,
    # which Docker Compose v2 reads; everything else is checked as written.
    document = {k: v for k, v in compose.items() if k != "name"}
    validator = jsonschema.Draft201909Validator(compose_schema)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    # Control: a misspelt key is caught.
    broken = {
        **document,
        "services": {
            **document["services"],
            "web": {**document["services"]["web"], "helthcheck": {}},
        },
    }
    assert list(validator.iter_errors(broken))


def test_the_stack_has_every_service(compose):
    assert set(compose["services"]) == LONG_RUNNING | {"migrate"}
    assert compose["name"] == "guichet-famille"


def test_every_long_running_service_has_a_health_check(compose):
    for name in LONG_RUNNING:
        healthcheck = compose["services"][name].get("healthcheck")
        assert healthcheck and healthcheck["test"], name
        assert compose["services"][name]["restart"] == "unless-stopped", name


def test_start_order_migrate_once_then_the_app(compose):
    services = compose["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["migrate"] and migrate["restart"] == "no"
    assert migrate["depends_on"]["db"] == {"condition": "service_healthy"}
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name
        assert services[name]["command"] == [name]
    assert services["nginx"]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert services["beat"]["deploy"]["replicas"] == 1


def test_app_containers_share_the_production_settings(compose):
    for name in ("migrate", "web", "worker", "beat", "backup"):
        service = compose["services"][name]
        env = service["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "portal.settings.prod", name
        assert env["DATABASE_URL"].endswith("@db:5432/guichet")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        # Secrets are required from the env file, never defaulted.
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        assert service["build"] == {
            "context": "..",
            "dockerfile": "deploy/Dockerfile",
            "target": "app",
        }
    assert compose["services"]["nginx"]["build"]["target"] == "nginx"


def test_nightly_backup_of_every_town(compose):
    """The documented backup (manage.py backup_town --all) runs every night
    through the entrypoint, with the media files and its own volume."""
    backup = compose["services"]["backup"]
    assert backup["command"] == ["backup-daily"]
    assert backup["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "media:/var/lib/guichet/media" in backup["volumes"]
    assert "backups:/var/lib/guichet/backups" in backup["volumes"]
    assert backup["environment"]["BACKUP_DIR"] == "/var/lib/guichet/backups"
    assert "backups" in compose["volumes"]
    script = (DEPLOY / "docker-entrypoint.sh").read_text()
    assert "backup-daily)" in script and "backup)" in script
    assert script.count("manage.py backup_town --all") == 2


def test_postgresql_has_room_for_thousands_of_schemas(compose):
    command = compose["services"]["db"]["command"]
    locks = int(re.search(r"max_locks_per_transaction=(\d+)", command).group(1))
    assert locks >= 1024


def test_env_example_covers_every_required_variable(compose):
    text = (DEPLOY / "compose.yaml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert required == {"SECRET_KEY", "VAULT_MASTER_KEY", "GUICHET_HOST", "POSTGRES_PASSWORD"}
    assert required <= example


# --- nginx -------------------------------------------------------------------


def parse_nginx(path: Path, tmp_path: Path) -> dict:
    """Parse a server-level file inside `http {}`, as nginx includes it."""
    wrapper = tmp_path / "nginx.conf"
    wrapper.write_text(f"events {{}}\nhttp {{\n    include {path};\n}}\n")
    result = crossplane.parse(str(wrapper), check_ctx=True, check_args=True)
    assert result["status"] == "ok", result["errors"]
    return result


def directives(block, name):
    return [d for d in block if d["directive"] == name]


@pytest.mark.parametrize("filename", ["guichet.conf.template", "guichet-host.conf"])
def test_nginx_serves_static_and_sends_everything_else_to_django(filename, tmp_path):
    result = parse_nginx(DEPLOY / "nginx" / filename, tmp_path)
    parsed = next(c["parsed"] for c in result["config"] if c["file"].endswith(filename))
    upstream = directives(parsed, "upstream")[0]
    https = [
        s
        for s in directives(parsed, "server")
        if any("443" in d["args"][0] for d in directives(s["block"], "listen"))
    ][0]
    locations = {" ".join(d["args"]): d["block"] for d in directives(https["block"], "location")}
    assert set(locations) == {"/static/", "= /metrics", "/"}
    assert directives(locations["/static/"], "alias")
    # "/" is a prefix match for every path: all towns (/castres/...) reach Django.
    proxy = directives(locations["/"], "proxy_pass")[0]["args"]
    assert proxy == [f"http://{upstream['args'][0]}"]
    headers = {tuple(d["args"]) for d in directives(locations["/"], "proxy_set_header")}
    assert ("X-Forwarded-Proto", "$scheme") in headers and ("Host", "$host") in headers
    assert not any("media" in loc for loc in locations)  # private documents: Django only
    assert [d["args"] for d in directives(locations["= /metrics"], "deny")] == [["all"]]


def test_the_parser_catches_a_broken_nginx_file(tmp_path):
    broken = tmp_path / "broken.conf"
    broken.write_text("server { listen 80; location / { proxy_pass; } }\n")
    wrapper = tmp_path / "nginx.conf"
    wrapper.write_text(f"events {{}}\nhttp {{ include {broken}; }}\n")
    assert crossplane.parse(str(wrapper), check_ctx=True, check_args=True)["status"] == "failed"


# --- Dockerfile and scripts ----------------------------------------------------


def dockerfile_instructions():
    text = (DEPLOY / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)  # join continued lines
    lines = [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")
    ]
    return [tuple(ln.split(None, 1)) for ln in lines]


def test_dockerfile_is_multi_stage_non_root_and_collects_static():
    instructions = dockerfile_instructions()
    stages = [args.split()[-1] for op, args in instructions if op == "FROM"]
    assert stages == ["build", "app", "nginx"]
    app = instructions[[i for i, (op, a) in enumerate(instructions) if op == "FROM"][1] :]
    app = app[: [i for i, (op, _a) in enumerate(app) if op == "FROM"][1]]
    users = [a for op, a in app if op == "USER"]
    assert users == ["10001:10001"]  # numeric: runAsNonRoot can verify it
    runs = " ".join(a for op, a in instructions if op == "RUN")
    assert "manage.py collectstatic --noinput" in runs
    assert "DJANGO_SETTINGS_MODULE=portal.settings.prod" in runs
    envs = " ".join(a for op, a in app if op == "ENV")
    assert "DJANGO_SETTINGS_MODULE=portal.settings.prod" in envs
    assert "PYTHONPATH=/app:/app/platform" in envs


def test_every_file_the_dockerfile_copies_exists():
    for op, args in dockerfile_instructions():
        if op != "COPY" or args.startswith("--from"):
            continue
        *sources, _dest = args.split()
        for source in sources:
            assert (ROOT / source).exists(), source


def test_entrypoint_runs_gunicorn_on_portal_wsgi():
    script = (DEPLOY / "docker-entrypoint.sh").read_text()
    assert re.search(r"exec gunicorn --config /app/deploy/gunicorn\.conf\.py portal\.wsgi", script)
    for command in ("web)", "worker)", "beat)", "migrate)"):
        assert command in script
    for path in ("docker-entrypoint.sh", "tools/install-validation-tools.sh"):
        out = subprocess.run(["bash", "-n", str(DEPLOY / path)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert os.access(DEPLOY / path, os.X_OK), path


def test_systemd_units_name_the_same_commands():
    units = {p.name: p.read_text() for p in (DEPLOY / "systemd").glob("*.service")}
    assert set(units) == {
        "guichet-web.service",
        "guichet-worker.service",
        "guichet-beat.service",
        "guichet-migrate.service",
        "guichet-backup.service",
    }
    assert (
        "gunicorn --config /srv/guichet/app/deploy/gunicorn.conf.py portal.wsgi"
        in units["guichet-web.service"]
    )
    assert "celery -A portal worker" in units["guichet-worker.service"]
    assert "celery -A portal beat" in units["guichet-beat.service"]
    assert "migrate_schemas --shared" in units["guichet-migrate.service"]
    assert "manage.py backup_town --all" in units["guichet-backup.service"]
    timer = (DEPLOY / "systemd" / "guichet-backup.timer").read_text()
    assert re.search(r"^OnCalendar=", timer, re.M) and "Persistent=true" in timer
    for name, text in units.items():
        assert "User=guichet" in text and "NoNewPrivileges=yes" in text, name
        assert "DJANGO_SETTINGS_MODULE=portal.settings.prod" in text, name
        assert re.search(r"^\[Service\]$", text, re.M), name
