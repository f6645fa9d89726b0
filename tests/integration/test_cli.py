"""The ``outpost`` command, run as a subprocess on a temporary SQLite file and var/ folder, and the
docker-compose file checked with ``docker-compose config -q``.

Each CLI start costs a few seconds of imports, so one demo site is set up per module and the user
commands work on users of their own in it.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from backend.auth.models import ROLES
from backend.demo import USERS

ROOT = Path(__file__).resolve().parents[2]
OUTPOST = ROOT / ".venv" / "bin" / "outpost"


@dataclass
class Site:
    db: Path
    var_dir: Path
    env: dict[str, str]

    def run(
        self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(OUTPOST), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            timeout=120,
            check=False,
        )

    def query(self, sql: str, *params: object) -> list[tuple]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql, params).fetchall()

    def password_hash(self, username: str) -> str:
        rows = self.query("SELECT password_hash FROM user_account WHERE username = ?", username)
        assert len(rows) == 1, rows
        return rows[0][0]


def new_site(folder: Path) -> Site:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}
    db = folder / "outpost.db"
    env |= {
        "OUTPOST_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "OUTPOST_VAR_DIR": str(folder / "var"),
        # cheap hashing keeps the runs short; the production cost is asserted in tests/integration/auth
        "OUTPOST_AUTH_ARGON2_TIME_COST": "1",
        "OUTPOST_AUTH_ARGON2_MEMORY_KIB": "8",
        "OUTPOST_AUTH_ARGON2_PARALLELISM": "1",
    }
    return Site(db, folder / "var", env)


def verifies(hashed: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(hashed, password)
    except VerifyMismatchError:
        return False


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


@dataclass
class DemoSite:
    site: Site
    upgrade: subprocess.CompletedProcess
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> DemoSite:
    """``db upgrade`` then ``demo`` twice, with OUTPOST_DEMO_PASSWORD unset."""
    site = new_site(tmp_path_factory.mktemp("cli"))
    upgrade = site.run("db", "upgrade")
    first = site.run("demo")
    second = site.run("demo")
    return DemoSite(site, upgrade, first, second)


# ------------------------------------------------------------------------------------------ db, demo


def test_db_upgrade_creates_the_schema(demo_site):
    assert ok(demo_site.upgrade).strip() == "database is at the latest schema"
    tables = {r[0] for r in demo_site.site.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"user_account", "device", "refresh_token", "customer", "sync_state", "change_log"} <= tables
    assert demo_site.site.query("SELECT count(*) FROM alembic_version") == [(1,)]
    # Running it again is harmless.
    assert ok(demo_site.site.run("db", "upgrade")).strip() == "database is at the latest schema"


def _printed_password(stdout: str) -> str:
    match = re.search(r"Password for every demo login: (\S+)", stdout)
    assert match, stdout
    return match.group(1)


def test_demo_loads_once_and_prints_the_logins_with_a_generated_password(demo_site):
    site = demo_site.site
    first, second = ok(demo_site.first), ok(demo_site.second)
    assert "demo data loaded" in first
    assert "demo data already present" in second and "demo data loaded" not in second
    for out in (first, second):
        assert "Demo logins: " + ", ".join(u[0] for u in USERS) in out

    password = _printed_password(first)
    assert _printed_password(second) == password  # the same one, printed again
    creds = site.var_dir / "demo-credentials"
    assert creds.read_text().strip() == password
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert len(password) >= 12

    # Idempotent: the second run added nothing.
    assert site.query("SELECT count(*) FROM user_account") == [(len(USERS),)]
    assert site.query("SELECT count(*) FROM customer") == [(300,)]
    assert site.query("SELECT count(*) FROM org_unit") == [(8,)]
    # The printed password is the one every demo login has.
    for username, *_ in USERS:
        assert verifies(site.password_hash(username), password), username


def test_demo_uses_outpost_demo_password_when_set(tmp_path):
    site = new_site(tmp_path)
    out = ok(site.run("demo", env={"OUTPOST_DEMO_PASSWORD": "set-by-env-42"}))
    assert "demo data loaded" in out
    assert _printed_password(out) == "set-by-env-42"
    assert not (site.var_dir / "demo-credentials").exists()
    assert verifies(site.password_hash("rep1"), "set-by-env-42")


def test_demo_with_a_short_password_says_so_in_one_line_and_stores_nothing(tmp_path):
    """All or nothing: a refused demo load leaves no half-loaded database behind, and the next
    load with a good password goes through."""
    site = new_site(tmp_path)
    r = site.run("demo", env={"OUTPOST_DEMO_PASSWORD": "short"})
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.strip().count("\n") == 0 and r.stderr.startswith("error: "), r.stderr
    assert "Traceback" not in r.stderr and "8 characters" in r.stderr
    assert site.query("SELECT count(*) FROM org_unit") == [(0,)]
    assert site.query("SELECT count(*) FROM user_account") == [(0,)]
    out = ok(site.run("demo", env={"OUTPOST_DEMO_PASSWORD": "long-enough-42"}))
    assert "demo data loaded" in out
    assert verifies(site.password_hash("admin"), "long-enough-42")
    # the users' creation is in the audit trail, as every write is
    assert site.query("SELECT count(*) FROM audit_log WHERE entity = 'user' AND action = 'create'") == [(len(USERS),)]


def test_a_bad_setting_is_one_line_not_a_traceback(tmp_path):
    site = new_site(tmp_path)
    r = site.run("user", "list", env={"OUTPOST_ENVIRONMENT": "production"})  # no JWT secret set
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("error: ") and "OUTPOST_AUTH_JWT_SECRET" in r.stderr
    assert r.stderr.strip().count("\n") == 0


# ------------------------------------------------------------------------------------------ users


def _listed(site: Site) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in ok(site.run("user", "list")).splitlines() if line.strip()}


def test_user_create_list_disable_enable(demo_site):
    site = demo_site.site
    created = site.run(
        "user", "create", "x", "--role", "rep", "--org-unit", "GZ", "--password-env", "X_PASSWORD",
        env={"X_PASSWORD": "x-password-1"},
    )  # fmt: skip
    assert ok(created).strip() == "created x (rep) in GZ"
    assert verifies(site.password_hash("x"), "x-password-1")

    listed = _listed(site)
    assert listed["x"] == ["x", "rep", "GZ", "active"]
    assert listed["admin"] == ["admin", "admin", "HQ", "active"]  # the demo users are listed too

    assert ok(site.run("user", "disable", "x")).strip() == "done"
    assert _listed(site)["x"][-1] == "disabled"
    assert site.query("SELECT disabled_at IS NOT NULL FROM user_account WHERE username = 'x'") == [(1,)]

    assert ok(site.run("user", "enable", "x")).strip() == "done"
    assert _listed(site)["x"][-1] == "active"
    assert site.query("SELECT disabled_at FROM user_account WHERE username = 'x'") == [(None,)]


def test_user_create_with_several_roles(demo_site):
    site = demo_site.site
    out = ok(
        site.run(
            "user", "create", "lead", "--role", "rep", "--role", "manager", "--org-unit", "SZ",
            "--display-name", "深圳 Lead", stdin="lead-password-1\n",
        )
    )  # fmt: skip
    assert out.strip() == "created lead (manager, rep) in SZ"
    assert site.query("SELECT display_name, roles FROM user_account WHERE username = 'lead'") == [
        ("深圳 Lead", '["manager", "rep"]')
    ]


def test_user_reset_password_from_stdin(demo_site):
    site = demo_site.site
    ok(site.run("user", "create", "forgetful", "--role", "rep", "--org-unit", "GZ-TH", stdin="first-password\n"))
    assert verifies(site.password_hash("forgetful"), "first-password")

    assert ok(site.run("user", "reset-password", "forgetful", stdin="second-password\n")).strip() == "done"
    hashed = site.password_hash("forgetful")
    assert verifies(hashed, "second-password")
    assert not verifies(hashed, "first-password")
    assert not verifies(hashed, "second-password\n")  # the newline from stdin is not part of it


REFUSED = {
    "unknown role": (
        ["user", "create", "wiz", "--role", "wizard", "--org-unit", "GZ"],
        "Unknown role(s): wizard; choose from " + ", ".join(ROLES),
    ),
    "unknown org unit": (
        ["user", "create", "wiz", "--role", "rep", "--org-unit", "NOPE"],
        "No org unit with code NOPE",
    ),
    "short password": (["user", "create", "wiz", "--role", "rep", "--org-unit", "GZ"], "at least 8 characters"),
    "existing user": (["user", "create", "REP1", "--role", "rep", "--org-unit", "GZ"], "already exists"),
    "disable unknown user": (["user", "disable", "ghost"], "No user ghost"),
    "reset unknown user": (["user", "reset-password", "ghost"], "No user ghost"),
}


def test_bad_user_commands_exit_2_with_a_message(demo_site):
    site = demo_site.site
    running = {  # started together: each start costs seconds of imports
        case: subprocess.Popen(
            [str(OUTPOST), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=site.env,
        )
        for case, (args, _) in REFUSED.items()
    }
    problems = []
    for case, proc in running.items():
        stdin = "short\n" if case == "short password" else "long-enough-password\n"
        out, err = proc.communicate(stdin, timeout=120)
        message = REFUSED[case][1]
        if proc.returncode != 2 or not err.startswith("error: ") or message not in err:
            problems.append(f"{case}: exit {proc.returncode}, stdout {out!r}, stderr {err!r}")
        elif "usage:" in err or "Traceback" in err:  # our message, not argparse's or a crash
            problems.append(f"{case}: {err!r}")
    assert not problems, "\n".join(problems)
    assert site.query("SELECT count(*) FROM user_account WHERE username IN ('wiz', 'ghost')") == [(0,)]


def test_password_env_that_is_not_set_is_refused(demo_site):
    site = demo_site.site
    result = site.run(
        "user", "create", "nopw", "--role", "rep", "--org-unit", "GZ", "--password-env", "OUTPOST_TEST_UNSET_VAR"
    )
    assert result.returncode != 0
    assert "OUTPOST_TEST_UNSET_VAR is empty or not set" in result.stderr
    assert site.query("SELECT count(*) FROM user_account WHERE username = 'nopw'") == [(0,)]


# ------------------------------------------------------------------------------------------ docker-compose


def _compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is not installed (apt-get install docker-compose)"
    base = {k: v for k, v in os.environ.items() if k not in ("POSTGRES_PASSWORD", "OUTPOST_AUTH_JWT_SECRET")}
    return subprocess.run(
        [exe, "-f", str(ROOT / "docker-compose.yml"), *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_docker_compose_file_is_valid():
    secrets = {"POSTGRES_PASSWORD": "pg-secret-for-test", "OUTPOST_AUTH_JWT_SECRET": "jwt-secret-for-test-" + "q" * 20}
    quiet = _compose("config", "-q", env=secrets)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == ""

    full = _compose("config", env=secrets)
    assert full.returncode == 0, full.stderr
    assert "OUTPOST_ENVIRONMENT: production" in full.stdout
    assert "postgresql+asyncpg://outpost:pg-secret-for-test@db:5432/outpost" in full.stdout
    assert secrets["OUTPOST_AUTH_JWT_SECRET"] in full.stdout


@pytest.mark.parametrize("missing", ["POSTGRES_PASSWORD", "OUTPOST_AUTH_JWT_SECRET"])
def test_docker_compose_refuses_without_its_secrets(missing):
    secrets = {"POSTGRES_PASSWORD": "pg-secret-for-test", "OUTPOST_AUTH_JWT_SECRET": "jwt-secret-for-test-" + "q" * 20}
    del secrets[missing]
    result = _compose("config", "-q", env=secrets)
    assert result.returncode != 0
    assert f"set {missing}" in result.stderr


# ------------------------------------------------------------------------------------------ labels


def test_labels_to_pdf_and_png_are_decodable_and_recorded_as_batches(demo_site, tmp_path):
    import pypdfium2
    import zxingcpp
    from PIL import Image

    site = demo_site.site
    tags = [r[0] for r in site.query("SELECT tag FROM asset ORDER BY tag LIMIT 5")]
    pdf = tmp_path / "labels.pdf"
    out = ok(site.run("labels", "--tags", ",".join(t.lower() for t in tags[:4]), "--out", str(pdf)))
    assert "4 labels (0 reprints)" in out
    read = [
        r.text
        for page in pypdfium2.PdfDocument(pdf)
        for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())
    ]
    assert sorted(u.rsplit("/t/", 1)[1] for u in read) == tags[:4]
    folder = tmp_path / "png"
    out = ok(
        site.run(
            "labels", "--tags", f"{tags[3]},{tags[4]}", "--layout", "50x30", "--format", "png", "--out", str(folder)
        )
    )
    assert "2 labels (1 reprints)" in out
    pages = sorted(folder.glob("*.png"))
    assert len(pages) == 2 and Image.open(pages[0]).size == (591, 354)  # 50 x 30 mm at 300 dpi
    out = ok(site.run("labels", "--locations", "--all", "--out", str(tmp_path / "places.pdf")))
    assert "20 location labels (0 reprints)" in out
    read = [
        r.text
        for page in pypdfium2.PdfDocument(tmp_path / "places.pdf")
        for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())
    ]
    assert sorted(u.rsplit("/t/", 1)[1] for u in read) == [
        r[0] for r in site.query("SELECT code FROM location ORDER BY code")
    ]
    batches = site.query("SELECT source, kind, layout, format, count, reprints FROM label_batch ORDER BY created_at")
    assert batches[-3:] == [
        ("cli", "asset", "a4", "pdf", 4, 0),
        ("cli", "asset", "50x30", "png", 2, 1),
        ("cli", "location", "a4", "pdf", 20, 0),
    ]


def test_bad_label_commands_exit_2_and_record_nothing(demo_site, tmp_path):
    site = demo_site.site
    before = site.query("SELECT count(*) FROM label_batch")
    bad = site.run("labels", "--tags", "AS00000001A", "--out", str(tmp_path / "x.pdf"))
    assert bad.returncode == 2 and "not a valid asset tag (check-failed)" in bad.stderr
    unknown = site.run("labels", "--tags", "AS99999999" + "0", "--out", str(tmp_path / "x.pdf"))
    assert unknown.returncode == 2 and "error:" in unknown.stderr
    folder = site.run("labels", "--all", "--out", str(tmp_path))
    assert folder.returncode == 2 and "is a folder" in folder.stderr
    assert site.run("labels", "--out", str(tmp_path / "x.pdf")).returncode == 2  # --all or --tags
    assert site.query("SELECT count(*) FROM label_batch") == before
    assert not (tmp_path / "x.pdf").exists()
