"""The Content-Security-Policy (django-csp) in a real browser: the main pages, the admin
and the API's Swagger UI load and work with no violation reported, and the policy does
block what it must (an inline script injected into a page does not run)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PASSWORD, wait_for

# Collects the browser's securitypolicyviolation events before any page script runs.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
});
"""

ADMIN_PAGES = [
    "/",
    "/live/",
    "/playback/",
    "/analysis/",
    "/attendance/",
    "/attendance/report/",
    "/account/token/",
    "/password/",
    "/admin/",
    "/admin/cameras/camera/",
    "/admin/cameras/camera/add/",
    "/admin/accounts/user/",
    "/admin/django_rq/dashboard/",
    "/admin/ops/systemstatus/",
    "/api/docs/",
    "/api/cameras/",
]


@pytest.fixture(scope="module")
def csp_context(browser, site):
    """A browser context of the admin, listening for CSP violations on every page."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=site.url)
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.console_lines = []
    page.on("console", lambda m: page.console_lines.append(f"{m.type}: {m.text}"))
    page.goto("/login/")
    assert violations(page) == []  # the login page too
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    yield context, page
    context.close()


def violations(page) -> list[str]:
    # Let the tasks already queued (violation events among them) run first: a frame, then a task.
    page.evaluate("new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)))")
    reported = page.evaluate("window.__cspViolations || []")
    logged = [line for line in page.console_lines if "Content Security Policy" in line]
    return reported + logged


def open_page(page, path: str):
    page.console_lines.clear()
    response = page.goto(path, wait_until="load")
    assert response.status == 200, f"{path}: {response.status}"
    return response


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_the_main_pages_report_no_policy_violation(csp_context, path):
    _, page = csp_context
    response = open_page(page, path)
    policy = response.headers["content-security-policy"]
    # Django-RQ's admin-only pages are the one exception (ainvr.rq_pages): inline code in its templates.
    if not path.startswith("/admin/django_rq/"):
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert violations(page) == [], f"{path}: {violations(page)}"


def test_the_swagger_ui_renders_under_the_policy(csp_context):
    _, page = csp_context
    open_page(page, "/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock-tag", timeout=30_000)
    assert violations(page) == []


def test_the_admin_scripts_run_under_the_policy(csp_context):
    _, page = csp_context
    open_page(page, "/admin/cameras/camera/add/")
    wait_for(lambda: page.evaluate("typeof django === 'object' && typeof django.jQuery === 'function'"), 10, "admin JS")
    assert violations(page) == []


def test_the_reset_logs_dialog_opens_from_its_static_script(csp_context):
    _, page = csp_context
    open_page(page, "/attendance/report/")
    page.click("#reset-logs-open")
    wait_for(lambda: page.evaluate("document.getElementById('reset-logs').open"), 10, "the reset logs dialog open")
    assert violations(page) == []


def test_resetting_logs_counts_first_and_deletes_only_the_typed_count(csp_context, orm):
    """The dialog never deletes in one click: it counts, the Delete button waits for the count
    typed back, and with no dates it says every row goes."""
    from django.utils import timezone

    from attendance.models import AttendanceEvent, Employee

    with orm():
        employee = Employee.objects.create(code="R1", name="Reset Example")
        old = timezone.now() - timezone.timedelta(days=400)
        for moment in (timezone.now(), timezone.now(), old):
            AttendanceEvent.objects.create(employee=employee, time=moment, kind="sighting")
    _, page = csp_context
    open_page(page, "/attendance/report/")
    page.click("#reset-logs-open")
    # The report's range is preselected, no table is, and Delete is not there yet.
    assert page.input_value("[name=from_date]") and page.input_value("[name=to_date]")
    assert page.locator("[name=table]:checked").count() == 0 and page.is_hidden("#reset-logs-delete")
    page.check("[name=table][value=events]")
    page.click("#reset-logs-submit")
    page.wait_for_selector("#reset-logs-delete:visible")
    assert "This deletes 2 attendance events" in page.inner_text("#reset-logs-result")
    assert page.is_disabled("#reset-logs-delete")
    page.fill("#reset-logs-typed", "3")
    assert page.is_disabled("#reset-logs-delete")
    page.fill("#reset-logs-typed", "2")
    page.click("#reset-logs-delete")
    wait_for(lambda: "Deleted 2" in page.inner_text("#reset-logs-result"), 10, "the deletion reported")
    with orm():
        assert list(AttendanceEvent.objects.values_list("time", flat=True)) == [old]
    # No dates: the count is of every row, and says so.
    page.fill("[name=from_date]", "")
    page.fill("[name=to_date]", "")
    page.click("#reset-logs-submit")
    wait_for(lambda: "every row" in page.inner_text("#reset-logs-result"), 10, "the count of every row")
    page.click("#reset-logs-close")
    with orm():
        assert AttendanceEvent.objects.count() == 1
        employee.delete()
    assert violations(page) == []


def test_an_injected_inline_script_is_blocked_and_reported(csp_context):
    _, page = csp_context
    open_page(page, "/live/")
    page.evaluate(
        """() => {
        const script = document.createElement("script");
        script.textContent = "window.__injected = true";
        document.body.appendChild(script);
    }"""
    )
    wait_for(lambda: violations(page), 10, "the violation reported")
    assert page.evaluate("window.__injected === undefined")
    assert any("script-src" in line for line in violations(page))
