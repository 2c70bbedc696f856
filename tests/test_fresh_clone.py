"""A fresh clone with no ../shared beside it is the demo the README promises.

The committed HEAD is cloned into a temporary folder (nothing of this checkout's
untracked files, no shared data folder, no network for KLE) and `make run`'s
script runs there on SQLite with this virtualenv's Python: migrate, kle_ensure,
demo_load, the demo accounts, the servers. Then every demo citizen logs in
through the demo MitID provider, and the README's table is checked through the
one door for citizen data (borgerblikket.selectors, in the clone) and the
portal's pages (each visible case answers, each hidden one is a 404). Ctrl-C
then stops it all.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT
from tests.test_make_run import (
    as_a_terminal_starts_it,
    group_members,
    interrupt_like_a_terminal,
    serve_env,
    wait_for,
)

pytestmark = pytest.mark.ci

# Run in the clone by `manage.py shell`: the README's promises through the selectors.
# Prints one JSON line: per citizen, the ids the pages must show and must hide.
README_PROMISES = r"""
import json
from pathlib import Path

import config
from borgerblikket.models import Sheet
from borgerblikket.selectors import (
    benefits_visible_to_citizen,
    case_awaits_citizen,
    cases_visible_to_citizen,
    documents_visible_for_case,
    payments_visible_to_citizen,
)
from indexes.models import Case, GrantedBenefit, Payment
from simulators.demo_citizens import demo_citizen_get

assert Path(config.__file__).resolve().is_relative_to(Path.cwd().resolve()), config.__file__


def seen(key):
    cpr = demo_citizen_get(key=key).cpr
    cases = list(cases_visible_to_citizen(cpr=cpr))
    return cpr, {
        "cases": cases,
        "kinds": sorted((c.municipality_id, c.kle_subject.number) for c in cases),
        "waiting": sorted(c.municipality_id for c in cases if case_awaits_citizen(c)),
        "benefits": {b.name: b for b in benefits_visible_to_citizen(cpr=cpr)},
        "payments": list(payments_visible_to_citizen(cpr=cpr)),
        "all_cases": list(Case.objects.filter(party_cpr=cpr)),
    }


def hidden(all_cases, cases):
    shown = {c.pk for c in cases}
    return [c for c in all_cases if c.pk not in shown]


out = {}
# Kim: Fredensborg shows home help, a moped and filter glasses, folkepension with
# payments, a helbredstillæg case with document titles; hides all of Odense and parking.
cpr, kim = seen("demo-kim")
assert {c.municipality_id for c in kim["cases"]} == {"210"}, kim["kinds"]
assert ("210", "32.03.12") in kim["kinds"], kim["kinds"]
names = set(kim["benefits"])
assert {"Hjælpemiddel - Knallert", "Filterbrille - Biocover Black Lange", "Folkepension"} <= names
assert any("pleje" in n.lower() or "rengøring" in n.lower() for n in names), names
assert all(b.start_on for b in kim["benefits"].values()) and all(
    b.status for b in kim["benefits"].values()
)
assert any(p.benefit_name == "Folkepension" for p in kim["payments"])
tillaeg = [c for c in kim["cases"] if c.kle_subject.number == "32.03.12"][0]
assert [d.title for d in documents_visible_for_case(cpr=cpr, case=tillaeg) if d.title]
kim_hidden = hidden(kim["all_cases"], kim["cases"])
assert {c.municipality_id for c in kim_hidden} == {"461", "210"}, kim_hidden
assert GrantedBenefit.objects.filter(grant__party_cpr=cpr, grant__municipality="461").exists()
assert not any(b.municipality_code == "461" for b in kim["benefits"].values())
out["demo-kim"] = kim

# Hans: Syddjurs kontanthjælp with monthly payments, waiting for him; a sygedagpenge
# follow-up with letters and payments; a refused enkeltudgifter; the 2020 case hidden.
cpr, hans = seen("demo-hans")
assert {c.municipality_id for c in hans["cases"]} == {"706"}
assert hans["waiting"] == ["706"], hans["waiting"]
assert "Kontanthjælp" in hans["benefits"]
assert sum(p.benefit_name == "Kontanthjælp" for p in hans["payments"]) >= 12
assert any("ygedagpenge" in p.benefit_name for p in hans["payments"])
sick = [c for c in hans["cases"] if c.kle_subject.number == "15.17.06"]
assert len(sick) == 1 and documents_visible_for_case(cpr=cpr, case=sick[0])
assert len(hans["cases"]) == 3, hans["kinds"]
hans_hidden = hidden(hans["all_cases"], hans["cases"])
assert [c.created_on.year for c in hans_hidden] == [2020], hans_hidden
out["demo-hans"] = hans

# Mette: Odense's sygedagpenge follow-up and fleksjob (waiting for her), without
# document titles or payments; revalidering (hidden), 2019 ressourceforløb, building hidden.
cpr, mette = seen("demo-mette")
assert mette["kinds"] == [("461", "15.17.06"), ("461", "15.20.24")], mette["kinds"]
assert mette["waiting"] == ["461"]
assert not Sheet.objects.get(municipality="461").show_document_titles
assert not any(documents_visible_for_case(cpr=cpr, case=c) for c in mette["cases"])
assert not mette["payments"] and not mette["benefits"]
assert Payment.objects.filter(party_cpr=cpr).exists() or GrantedBenefit.objects.filter(
    grant__party_cpr=cpr
).exists()
mette_hidden = hidden(mette["all_cases"], mette["cases"])
assert len(mette_hidden) == 3 and any(c.hidden_from_citizen for c in mette_hidden)
assert any(c.created_on.year == 2019 for c in mette_hidden)
out["demo-mette"] = mette

# Ingrid: nothing anywhere.
cpr, ingrid = seen("demo-ingrid")
assert not ingrid["all_cases"] and not ingrid["benefits"] and not ingrid["payments"]
out["demo-ingrid"] = ingrid

# Lars has a case in Fredensborg (he is refused at login, checked through the pages).
cpr, lars = seen("demo-lav-sikring")
assert [c.municipality_id for c in lars["all_cases"]] == ["210"]
out["demo-lav-sikring"] = lars

print("PROMISES " + json.dumps({
    key: {
        "visible": [c.pk for c in seen_["cases"]],
        "hidden": [c.pk for c in hidden(seen_["all_cases"], seen_["cases"])],
    }
    for key, seen_ in out.items()
}))
"""


def _git(*args, cwd=ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()


@pytest.fixture
def fresh_clone(tmp_path) -> Path:
    """The committed HEAD, cloned where no ../shared lies beside it."""
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    try:
        head = _git("rev-parse", "HEAD")
    except subprocess.CalledProcessError:
        pytest.skip(f"{ROOT} is not a git checkout")
    clone = tmp_path / "overblik"
    _git("clone", "--quiet", "--no-checkout", str(ROOT), str(clone))
    _git("checkout", "--quiet", head, cwd=clone)
    assert not (clone.parent / "shared").exists() and not (clone / "db.sqlite3").exists()
    return clone


def log_in(portal: str, key: str) -> tuple[requests.Session, requests.Response]:
    """The demo MitID login as a browser makes it: to the provider, choose the citizen, back."""
    session = requests.Session()
    form = session.get(f"{portal}/oidc/authenticate/", timeout=30)
    assert form.status_code == 200 and "Demo-login" in form.text, form.text[:500]
    landed = session.post(form.url, data={"sub": key}, timeout=30)
    return session, landed


def test_a_clone_without_shared_runs_the_demo_the_readme_promises(fresh_clone, tmp_path):
    env = serve_env(
        tmp_path,
        PYTHONPATH=str(fresh_clone),
        # No network: the KLE-online API does not answer, so kle_ensure falls back, as
        # it would offline, past the absent shared folder to the hand-written fixture.
        KLE_API_BASE="http://127.0.0.1:9/kle",
    )
    del env["DATABASE_URL"]  # `make run`'s default: db.sqlite3 in the checkout
    portal = f"http://127.0.0.1:{env['PORT']}"
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "scripts/run"],
            cwd=fresh_clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=as_a_terminal_starts_it,
        )
    try:
        wait_for(
            lambda: process.poll() is not None or "Quit the server with" in log.read_text(),
            "make run's servers",
            timeout=400,
        )
        started = log.read_text()
        assert process.poll() is None, started[-4000:]
        # The demo needed nothing from ../shared.
        assert "KLE emneplan: imported from the packaged fixture" in started, started[-4000:]
        for name in ("Odense", "Syddjurs", "Fredensborg"):
            assert re.search(
                rf"{name}'s sheet: [1-9]\d* rows added, 0 changed, 0 rejected", started
            )
        assert "missing" not in started, started[-4000:]
        # The demo admin accounts, with the README's passwords, printed at start.
        assert re.search(r"odense-admin\s+password demo-odense-admin", started)
        assert re.search(r"operator\s+password demo-national-operator", started)

        checked = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", README_PROMISES],
            cwd=fresh_clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-4000:]
        promises = json.loads(checked.stdout.split("PROMISES ", 1)[1])

        for key, ids in promises.items():
            session, landed = log_in(portal, key)
            if key == "demo-lav-sikring":
                # Refused at login: too low an assurance level, and no session.
                assert landed.url == f"{portal}/log-ind/fejl/", landed.url
                assert "/log-ind/" in session.get(f"{portal}/overblik/", timeout=30).url
                assert ids["visible"]  # his Fredensborg case, which the login keeps from him
                for case_id in ids["visible"] + ids["hidden"]:
                    page = session.get(f"{portal}/sager/{case_id}/", timeout=30)
                    assert "/log-ind/" in page.url, page.url
                continue
            assert landed.url == f"{portal}/overblik/" and landed.status_code == 200, landed.url
            assert session.get(f"{portal}/sager/", timeout=30).status_code == 200
            for case_id in ids["visible"]:
                assert session.get(f"{portal}/sager/{case_id}/", timeout=30).status_code == 200
            for case_id in ids["hidden"]:
                # The portal's own 404 page (DEBUG is off under make run).
                page = session.get(f"{portal}/sager/{case_id}/", timeout=30)
                assert page.status_code == 404 and "URLconf" not in page.text, (key, case_id)
    except BaseException:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        raise

    output = interrupt_like_a_terminal(process, log)
    assert process.returncode in (0, 130), output[-3000:]
    assert "Segmentation fault" not in output, output[-3000:]
    assert group_members(process.pid) == []
    assert (fresh_clone / "db.sqlite3").exists()  # it ran where a new user's clone is
