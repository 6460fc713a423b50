"""axe-core on every page (data tables opened): no serious or critical violation in the project's markup.

Violations in Streamlit's own chrome (navigation menu, header) are written to test-output/axe/ and
must be named in the accessibility statement; the statement must have the GOV.UK sections.
"""
from __future__ import annotations

import json
import re

import pytest

import browser_support as bs

PAGES = bs.app_pages()
BLOCKING = {"serious", "critical"}
AXE_OUT = bs.OUTPUT / "axe"
STATEMENT_SECTIONS = [
    "Accessibility statement", "How accessible this dashboard is", "Known limitations",
    "Feedback and contact information", "Enforcement procedure",
    "Technical information about this dashboard's accessibility", "Compliance status",
    "Preparation of this accessibility statement",
]


def _blocking(violations: list[dict], own: bool) -> list[tuple[str, str, str, str]]:
    return [(v["id"], n["impact"], " ".join(n["target"]), n["html"][:120])
            for v in violations for n in v["nodes"] if n["own"] is own and n["impact"] in BLOCKING]


@pytest.fixture(scope="module")
def axe_js():
    return bs.axe_script()


@pytest.fixture(scope="module")
def framework_rules():
    """Blocking rule ids found in Streamlit's chrome over the whole module (filled by the page tests)."""
    return set()


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_no_serious_violation_in_own_markup(spec, session, axe_js, framework_rules):
    session.open(spec)
    assert not bs.dialog_texts(session.page), "a dialog hides the page from axe"
    opened = bs.expand_all(session.page)
    violations = bs.run_axe(session.page, axe_js)
    AXE_OUT.mkdir(parents=True, exist_ok=True)
    (AXE_OUT / f"{spec.url_path}.json").write_text(json.dumps(
        {"page": spec.url_path, "expanders_opened": opened, "axe_core": bs.AXE_VERSION, "violations": violations},
        indent=1))
    framework_rules.update(rule for rule, *_ in _blocking(violations, own=False))
    own = _blocking(violations, own=True)
    assert not own, f"{spec.url_path}: serious/critical axe violations (rule, impact, selector, html):\n" + \
        "\n".join(map(str, own))


def test_axe_finds_a_planted_violation(session, axe_js):
    """The check itself works: an unlabelled image added to the page's own content is reported as own."""
    session.open(next(p for p in PAGES if p.default))
    session.page.evaluate("""() => document.querySelector('[data-testid="stMain"] h1')
                                .insertAdjacentHTML('afterend', '<img src="data:," id="planted">')""")
    own = _blocking(bs.run_axe(session.page, axe_js), own=True)
    assert any(rule == "image-alt" and "#planted" in target for rule, _, target, _ in own), own


def test_accessibility_statement(session, axe_js, framework_rules):
    """The statement page exists, has the GOV.UK sections and names every framework failure axe found."""
    spec = next((p for p in PAGES if p.stem == "accessibility"), None)
    assert spec is not None, "app.py registers no accessibility page"
    session.open(spec)
    framework_rules.update(rule for rule, *_ in _blocking(bs.run_axe(session.page, axe_js), own=False))
    text = session.page.inner_text('[data-testid="stMain"]')
    missing = [s for s in STATEMENT_SECTIONS if s.lower() not in text.lower()]
    assert not missing, f"the accessibility statement lacks sections: {missing}"
    assert "@" in text, "the statement gives no contact address"
    unnamed = sorted(rule for rule in framework_rules if not re.search(rf"(?<![\w-]){re.escape(rule)}(?![\w-])", text))
    assert not unnamed, f"axe rules failing in Streamlit's chrome that the statement does not name: {unnamed}"
