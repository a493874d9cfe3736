"""The console's pages under /console: server-rendered, one small script file, no inline script or style."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
import logging
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.config import Config
from gateway.receive.ownership import Ownership
from gateway.console.catalogue import LANGUAGES, text
from gateway.console.lazy import lazy

if TYPE_CHECKING:
    import sqlalchemy as sa

    from gateway.console import accounts as accounts_, charts, content, data, export
    from gateway.console.accounts import Accounts, Session
else:  # loaded on first use: a server process starts (and answers uvicorn's health check) sooner
    accounts_, charts, content, data, export = (lazy(f"gateway.console.{name}") for name in
                                                ("accounts", "charts", "content", "data", "export"))
from gateway.config import ConfigError
from gateway.deliver.overrides import effective
from gateway.deliver.policy import load_policies
from gateway.deliver.windows import LOCAL, active_window, parse_windows, window_table
from gateway.observe.metrics import LOOKUPS
from gateway.receive.body import Unread, read_body
from gateway.store import BreakerState, Store
from gateway.store.sealing import KeyRing

HERE = Path(__file__).parent
PREFIX = "/console"
COOKIE, LANG_COOKIE = "ckn_session", "ckn_lang"
FORM_BYTES, FORM_SECONDS = 1_000_000, 30.0  # a console form: a reason and some selected ids, never more
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "connect-src 'self'; "  # the bulk replay's progress, polled by console.js
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


class SecurityHeaders:
    """Adds ``HEADERS`` to the console's answers. Plain ASGI: other paths (the intake's) pass untouched, at
    no cost per request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      *((k.lower().encode(), v.encode()) for k, v in HEADERS.items())]
            await send(message)

        await self.app(scope, receive, with_headers)


class Redirect(Exception):
    def __init__(self, to: str) -> None:
        self.to = to


class Refusal(Exception):
    def __init__(self, key: str, status: int) -> None:
        self.key, self.status = key, status


def _local(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M:%S") if moment else "—"


def _day(value: str | None) -> datetime | None:
    """A YYYY-MM-DD form value as the start of that local day."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=LOCAL)
    except ValueError:
        return None


class Console:
    def __init__(self, config: Config, store: Callable[[], Store]) -> None:
        self.config = config
        self._store = store  # the intake's: one store (and pool) per process, opened on first use
        section = config.section("console")
        self.secure_cookie = bool(section.get("secure_cookie", True))
        self.late_minutes = int(section.get("late_after_minutes", 60))
        self.stale_days = int(section.get("stale_days", 7))
        self.policies = load_policies(config)
        self.ownership = Ownership.from_config(config)  # the API's own decision over the recorded owner
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(),
                                     trim_blocks=True, lstrip_blocks=True)
        self.templates.filters["local"] = _local

    @property
    def store(self) -> Store:
        return self._store()

    @property
    def keys(self) -> KeyRing | None:
        return self.store.keys  # type: ignore[attr-defined,no-any-return]  # the SQL stores have keys; the Store protocol does not name them

    @property
    def engine(self) -> sa.Engine:
        return self.store.engine  # type: ignore[attr-defined,no-any-return]  # the SQL stores have an engine; the Store protocol does not name it

    @cached_property
    def accounts(self) -> Accounts:
        section = self.config.section("console")
        return accounts_.Accounts(self.engine, max_failures=int(section.get("max_failures", 5)),
                        lock_minutes=float(section.get("lock_minutes", 15)),
                        session_hours=float(section.get("session_hours", 8)))

    def quality_rules(self) -> dict[str, Any]:
        return quality_rules(self.config)

    # --- plumbing ------------------------------------------------------------------------------
    @staticmethod
    def lang(request: Request) -> str:
        chosen = request.cookies.get(LANG_COOKIE, "vi")
        return chosen if chosen in LANGUAGES else "vi"

    def render(self, request: Request, name: str, session: Session | None = None, status: int = 200,
               **values: Any) -> HTMLResponse:
        lang = self.lang(request)
        page = self.templates.get_template(name).render(
            t=lambda key, **kw: text(key, lang, **kw), lang=lang, session=session, here=request.url.path,
            query=request.url.query, prefix=PREFIX, **values)
        return HTMLResponse(page, status_code=status)

    def session(self, request: Request, role: str = "viewer") -> Session:
        """The logged-in operator allowed ``role``; otherwise to the login page (or 403)."""
        session = self.accounts.session(request.cookies.get(COOKIE))
        if session is None:
            raise Redirect(f"{PREFIX}/login")
        if session.operator.must_change and request.url.path != f"{PREFIX}/password":
            raise Redirect(f"{PREFIX}/password")
        if not session.operator.may(role):
            raise Refusal("forbidden", 403)
        return session

    @staticmethod
    async def form(request: Request) -> dict[str, list[str]]:
        try:  # bounded in size and time, like every body the gateway reads: this one comes before any login
            body = await read_body(request, FORM_BYTES, FORM_SECONDS)
        except Unread as exc:
            raise Refusal("form.unreadable", exc.status) from None
        values: dict[str, list[str]] = {}
        for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            values.setdefault(key, []).append(value)
        return values

    def checked(self, request: Request, form: dict[str, list[str]], role: str) -> Session:
        session = self.session(request, role)
        if not accounts_.csrf_matches(session, next(iter(form.get("csrf") or []), None)):
            raise Refusal("csrf.failed", 403)
        return session

    def audit(self, session: Session, action: str, subject: str, detail: dict[str, Any] | None = None) -> None:
        self.store.audit(f"console:{session.operator.username}", action, subject, detail)

    def may_steer(self, session: Session) -> bool:
        """Pausing, resuming, resetting or scheduling maintenance of a destination every agency shares:
        an admin, or an operator of all agencies — never an operator scoped to some."""
        operator = session.operator
        return operator.may("admin") or (operator.may("operator") and operator.all_agencies)

    def looked_up(self, session: Session, kind: str) -> None:
        LOOKUPS.labels(session.operator.username, kind).inc()

    def names(self) -> list[str]:
        return sorted(self.policies)


def quality_rules(config: Config) -> dict[str, Any]:
    """The transition graph, final statuses and silence limit the sync-quality view judges by."""
    return {"transitions": config.transitions, "terminal": config.terminal_statuses,
            "stale_after": timedelta(days=int(config.section("console").get("stale_days", 7)))}


def _one(form: dict[str, list[str]], key: str) -> str:
    return (form.get(key) or [""])[0].strip()


def install(app: FastAPI, config: Config, store: Callable[[], Store]) -> Console:
    console = Console(config, store)
    app.state.console = console
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(Redirect)
    async def redirect(request: Request, exc: Redirect) -> Response:
        return RedirectResponse(exc.to, status_code=303)

    @app.exception_handler(Refusal)
    async def refusal(request: Request, exc: Refusal) -> Response:
        session = console.accounts.session(request.cookies.get(COOKIE))
        return console.render(request, "message.html", session, status=exc.status, key=exc.key)

    # --- accounts ----------------------------------------------------------------------------------
    @app.get(PREFIX + "/login", include_in_schema=False)
    def login_page(request: Request) -> Response:
        return console.render(request, "login.html")

    @app.post(PREFIX + "/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await console.form(request)
        username = _one(form, "username")
        try:  # argon2 takes tens of milliseconds of CPU: off the event loop every client shares
            operator = await run_in_threadpool(console.accounts.authenticate, username,
                                               (form.get("password") or [""])[0])
        except accounts_.AccountError as exc:
            console.store.audit(f"console:{username[:80]}", "console.login_failed", "console", {"why": exc.key})
            return console.render(request, "login.html", status=401, error=exc.key, username=username)
        token = console.accounts.open_session(operator)
        console.store.audit(f"console:{operator.username}", "console.login", "console", {})
        response = RedirectResponse(f"{PREFIX}/password" if operator.must_change else f"{PREFIX}/", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, secure=console.secure_cookie, samesite="strict",
                            path=PREFIX, max_age=int(console.accounts.session_length.total_seconds()))
        return response

    @app.post(PREFIX + "/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        form = await console.form(request)
        session = console.checked(request, form, "viewer")
        console.accounts.close_session(session.token_hash)
        console.audit(session, "console.logout", "console")
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    @app.get(PREFIX + "/password", include_in_schema=False)
    def password_page(request: Request) -> Response:
        return console.render(request, "password.html", console.session(request))

    @app.post(PREFIX + "/password", include_in_schema=False)
    async def password(request: Request) -> Response:
        form = await console.form(request)
        session = console.checked(request, form, "viewer")
        new = (form.get("new") or [""])[0]
        try:
            if new != (form.get("repeat") or [""])[0]:
                raise accounts_.AccountError("password.mismatch")
            console.accounts.change_password(session.operator.username, (form.get("current") or [""])[0], new)
        except accounts_.AccountError as exc:
            return console.render(request, "password.html", session, status=400, error=exc.key)
        console.audit(session, "console.password_changed", session.operator.username)
        return RedirectResponse(f"{PREFIX}/", status_code=303)

    @app.get(PREFIX + "/lang", include_in_schema=False)
    def language(request: Request, to: str = "vi", back: str = PREFIX + "/") -> Response:
        target = back if back.startswith(PREFIX + "/") and "//" not in back else PREFIX + "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(LANG_COOKIE, to if to in LANGUAGES else "vi", samesite="strict", path=PREFIX,
                            max_age=365 * 86400)
        return response

    # --- overview ----------------------------------------------------------------------------------
    @app.get(PREFIX + "/", include_in_schema=False)
    def overview(request: Request, span: str = "day", destination: str = "") -> Response:
        session = console.session(request)
        span = span if span in data.RANGES else "day"
        now = datetime.now(UTC)
        figures = data.destination_figures(console.engine, console.names(), now)
        for name, entry in figures.items():
            policy = console.policies.get(name)
            window = (active_window(effective(policy, console.store.destination_state(name)).windows, now)
                      if policy else None)
            entry.maintenance_until = window[1] if window else None
            entry.state = ("paused" if entry.paused else "maintenance" if window else
                           "circuit_open" if entry.breaker != "closed" else "retrying" if entry.retrying else "flowing")
        chosen = destination if destination in figures else next(
            (name for name, f in figures.items() if f.delivered_day or f.backlog), next(iter(figures), ""))
        svgs: list[tuple[str, str]] = []
        if chosen:
            s = data.series(console.engine, chosen, span, now, figures[chosen].backlog)
            lang, label = console.lang(request), "%H:%M" if span != "week" else "%d/%m"
            svgs = [(text(key, lang), charts.bars(text(key, lang), s.starts, values, colour, unit, label))
                    for key, values, colour, unit in (("chart.delivered", s.delivered, "#1b5e20", ""),
                                                      ("chart.failed", s.failed, "#b71c1c", ""),
                                                      ("chart.backlog", s.backlog, "#0d47a1", ""),
                                                      ("chart.latency", s.latency_s, "#4a148c", " s"))]
        return console.render(request, "overview.html", session, figures=list(figures.values()), span=span,
                              chosen=chosen, charts=svgs)

    # --- search and timeline -----------------------------------------------------------------------
    @app.get(PREFIX + "/search", include_in_schema=False)
    def search(request: Request, dossier: str = "", packet: str = "", sender: str = "", type: str = "",
               destination: str = "", state: str = "", since: str = "", until: str = "") -> Response:
        session = console.session(request)
        query = data.Search(dossier.strip() or None, packet.strip() or None, sender.strip() or None,
                            type.strip() or None, destination or None,
                            state if state in ("pending", "leased", "delivered", "dead") else None,
                            _day(since), _day(until))
        results = None if query.empty else data.search(console.engine, query, session.operator)
        if results is not None:
            console.looked_up(session, "search")
            console.audit(session, "console.search", "packets",
                          {k: v for k, v in vars(query).items() if v and k != "limit"} | {"found": len(results)})
        return console.render(request, "search.html", session, results=results, form=request.query_params,
                              destinations=console.names())

    @app.get(PREFIX + "/dossier/{code}", include_in_schema=False)
    def dossier(request: Request, code: str) -> Response:
        session = console.session(request)
        packets = data.timeline(console.engine, code, session.operator, console.ownership)
        if packets is None:
            console.audit(session, "console.dossier_denied", code)
            raise Refusal("not_found", 404)
        console.looked_up(session, "dossier")
        console.audit(session, "console.view_dossier", code)
        return console.render(request, "dossier.html", session, code=code, packets=packets)

    @app.get(PREFIX + "/packet/{packet_id}", include_in_schema=False)
    def packet(request: Request, packet_id: str, reveal: int = 0) -> Response:
        session = console.session(request)
        found = data.packet_raw(console.engine, packet_id, session.operator, console.ownership, console.keys)
        if found is None:
            raise Refusal("not_found", 404)
        revealed = bool(reveal) and session.operator.may("operator")
        console.looked_up(session, "content")
        console.audit(session, "console.view_content", packet_id, {"personal_data_shown": revealed})
        return console.render(request, "packet.html", session, packet_id=packet_id, dossier=found[2],
                              body=content.pretty(found[0], found[1], reveal=revealed), revealed=revealed,
                              may_reveal=session.operator.may("operator"))

    # --- dead letters ------------------------------------------------------------------------------
    @app.get(PREFIX + "/dead", include_in_schema=False)
    def dead(request: Request, destination: str = "", dossier: str = "", reason: str = "") -> Response:
        session = console.session(request)
        letters = data.dead_letters(console.engine, session.operator, destination=destination or None,
                                    dossier=dossier.strip() or None, reason=reason.strip() or None)
        return console.render(request, "dead.html", session, letters=letters, form=request.query_params,
                              destinations=console.names())

    @app.post(PREFIX + "/dead/replay", include_in_schema=False)
    async def replay(request: Request) -> Response:
        form = await console.form(request)
        session = console.checked(request, form, "operator")
        why, chosen = _one(form, "why"), form.get("job", [])
        ids = data.visible_jobs(console.engine, chosen, session.operator)
        letters = data.dead_letters(console.engine, session.operator)
        if not why or not ids:
            return console.render(request, "dead.html", session, status=400, letters=letters, form={},
                                  destinations=console.names(), error="dead.need_why" if not why else "dead.need_selection",
                                  selected=set(chosen), why=why)
        actor = f"console:{session.operator.username}"
        if _one(form, "action") != "replay":
            count = console.store.replay(ids, actor, why, dry_run=True)
            return console.render(request, "dead.html", session, letters=letters, form={},
                                  destinations=console.names(), would=count, selected=set(ids), why=why)
        run_id = console.store.start_replay_run(actor, why, ids)
        console.audit(session, "console.replay_started", run_id, {"count": len(ids), "reason": why})
        threading.Thread(target=_replay_each, args=(console.store, run_id, ids, actor, why),
                         name=f"replay-{run_id[:8]}", daemon=True).start()
        return RedirectResponse(f"{PREFIX}/dead/replay/{run_id}", status_code=303)

    def _run_of(session: Session, run_id: str) -> Any:
        run = console.store.replay_run(run_id) if len(run_id) <= 32 else None
        # one's own runs; an admin sees everyone's
        if run is None or (run.actor != f"console:{session.operator.username}" and not session.operator.may("admin")):
            raise Refusal("not_found", 404)
        return run

    @app.get(PREFIX + "/dead/replay/{run_id}", include_in_schema=False)
    def replay_progress(request: Request, run_id: str) -> Response:
        session = console.session(request, "operator")
        run = _run_of(session, run_id)
        results = [(job_id, run.results.get(job_id)) for job_id in run.job_ids]
        return console.render(request, "replayed.html", session, run=run, results=results, why=run.reason,
                              done=len(run.results), queued=sum(n or 0 for n in run.results.values()),
                              total=len(run.job_ids), finished=run.finished_at is not None)

    @app.get(PREFIX + "/dead/replay/{run_id}/progress", include_in_schema=False)
    def replay_progress_json(request: Request, run_id: str) -> Response:
        session = console.session(request, "operator")
        run = _run_of(session, run_id)
        lang = console.lang(request)
        return JSONResponse({"total": len(run.job_ids), "done": len(run.results),
                             "queued": sum(run.results.values()), "finished": run.finished_at is not None,
                             "progress": text("dead.progress", lang, done=len(run.results), total=len(run.job_ids)),
                             "results": {job_id: text("dead.result.queued" if n else "dead.result.skipped", lang)
                                         for job_id, n in run.results.items()}})

    # --- destinations ------------------------------------------------------------------------------
    @app.get(PREFIX + "/destinations", include_in_schema=False)
    def destinations(request: Request) -> Response:
        session = console.session(request)
        now = datetime.now(UTC)
        rows = []
        for name in console.names():
            policy, state = console.policies[name], console.store.destination_state(name)
            limits = effective(policy, state)
            window = active_window(limits.windows, now)
            rows.append({"name": name, "state": state, "policy": policy, "limits": limits,
                         "maintenance_until": window[1] if window else None})
        return console.render(request, "destinations.html", session, rows=rows, done=request.query_params.get("done"),
                              may_steer=console.may_steer(session), may_limit=session.operator.may("admin"),
                              error=request.query_params.get("error"))

    @app.post(PREFIX + "/destinations/{name}", include_in_schema=False)
    async def destination_action(request: Request, name: str) -> Response:
        form = await console.form(request)
        session = console.checked(request, form, "operator")
        if name not in console.policies:
            raise Refusal("not_found", 404)
        action, why, actor = _one(form, "action"), _one(form, "why"), f"console:{session.operator.username}"
        if action in ("rate", "rate_reset"):
            if not session.operator.may("admin"):
                console.audit(session, "destination.refused", name, {"action": action})
                raise Refusal("forbidden", 403)
        elif not console.may_steer(session):
            console.audit(session, "destination.refused", name, {"action": action})
            raise Refusal("dest.shared_only", 403)
        policy = console.policies[name]
        if action in ("pause", "resume"):
            console.store.set_paused(name, action == "pause", actor, why or action)
        elif action == "reset":
            console.store.save_breaker(name, BreakerState.CLOSED, None)
            console.audit(session, "destination.circuit_reset", name, {"reason": why})
        elif action == "rate":
            limits = _rate_limit(form)
            if limits is None:
                return RedirectResponse(f"{PREFIX}/destinations?error=dest.bad_rate", status_code=303)
            console.store.set_rate_limit(name, *limits, actor, why or action)
        elif action == "rate_reset":
            console.store.set_rate_limit(name, None, None, actor, why or action)
        elif action == "window":
            window = _window(form, name)
            if window is None:
                return RedirectResponse(f"{PREFIX}/destinations?error=dest.bad_window", status_code=303)
            windows = effective(policy, console.store.destination_state(name)).windows
            console.store.set_windows(name, [window_table(w) for w in windows] + [window], actor, why or action)
        elif action == "window_remove":
            current = [window_table(w) for w in effective(policy, console.store.destination_state(name)).windows]
            index = _one(form, "index")
            if not index.isdigit() or not 0 <= int(index) < len(current):
                raise Refusal("not_found", 404)
            del current[int(index)]
            console.store.set_windows(name, current, actor, why or action)
        elif action == "windows_reset":
            console.store.set_windows(name, None, actor, why or action)
        else:
            raise Refusal("not_found", 404)
        return RedirectResponse(f"{PREFIX}/destinations?done=1", status_code=303)

    # --- reports -----------------------------------------------------------------------------------
    def _report(request: Request, session: Session, start: str, end: str) -> tuple[list[data.MonthRow], str, str]:
        today = datetime.now(LOCAL)
        start = start or f"{today.year}-01"
        end = end or today.strftime("%Y-%m")
        since = _month_start(start) or today.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        until = _month_after(_month_start(end) or today.replace(day=1))
        rows = data.monthly(console.engine, session.operator, since=since, until=until,
                            late_after=timedelta(minutes=console.late_minutes),
                            senders=data.sender_agencies(console.config, console.engine))
        console.audit(session, "console.report", "monthly", {"from": start, "to": end})
        return rows, start, end

    @app.get(PREFIX + "/reports", include_in_schema=False)
    def reports(request: Request, start: str = "", end: str = "", quality: int = 0) -> Response:
        session = console.session(request)
        rows, start, end = _report(request, session, start, end)
        since, until = _month_start(start), _month_after(_month_start(end) or datetime.now(LOCAL).replace(day=1))
        # dossier by dossier reads every packet of the period: asked for, not drawn with every report
        sync = data.quality(console.engine, session.operator, since=since or until - timedelta(days=31), until=until,
                            now=datetime.now(UTC), keys=console.keys, **console.quality_rules()) if quality else None
        return console.render(request, "reports.html", session, rows=rows, start=start, end=end,
                              late_minutes=console.late_minutes, quality=sync, stale_days=console.stale_days)

    @app.get(PREFIX + "/reports/monthly.{kind}", include_in_schema=False)
    def report_file(request: Request, kind: str, start: str = "", end: str = "") -> Response:
        session = console.session(request)
        rows, start, end = _report(request, session, start, end)
        lang = console.lang(request)
        header = [text(k, lang) for k in ("col.agency", "reports.month", "reports.received", "reports.valid",
                                          "reports.refused", "reports.delivered", "reports.late")]
        table = [[r.agency, r.month, r.received, r.valid, r.refused, r.delivered, r.delivered_late] for r in rows]
        name = f"bao-cao-{start}-{end}.{kind}"
        disposition = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}
        if kind == "csv":
            return Response(export.csv_bytes(header, table), media_type="text/csv; charset=utf-8", headers=disposition)
        if kind == "ods":
            return Response(export.ods_bytes(header, table), headers=disposition,
                            media_type="application/vnd.oasis.opendocument.spreadsheet")
        raise Refusal("not_found", 404)

    return console


log = logging.getLogger(__name__)
MAX_RATE = 10_000.0  # calls per second: far above any peer's; a typo must not open the flood gates


def _rate_limit(form: dict[str, list[str]]) -> tuple[float, int] | None:
    """(rate per second, burst) from the form, or None when not both are positive numbers in bounds."""
    try:
        rate, burst = float(_one(form, "rate").replace(",", ".")), int(_one(form, "burst"))
    except ValueError:
        return None
    return (rate, burst) if 0 < rate <= MAX_RATE and 0 < burst <= 100_000 else None


def _window(form: dict[str, list[str]], name: str) -> dict[str, Any] | None:
    """A one-off maintenance window (local times, as the configuration writes them), or None if not valid."""
    table = {"start_at": _one(form, "start_at"), "end_at": _one(form, "end_at"), "note": _one(form, "note")[:200]}
    try:
        parse_windows([table], f"console.{name}")
    except ConfigError:
        return None
    return table


def _replay_each(store: Store, run_id: str, ids: list[str], actor: str, why: str) -> None:
    """One job at a time, each result recorded as it comes: the progress page reads them."""
    try:
        for job_id in ids:
            store.record_replay_result(run_id, job_id, store.replay([job_id], actor, why))
    except Exception:  # the page shows the run unfinished; what was done is recorded
        log.exception("bulk replay %s stopped", run_id)
    finally:
        try:
            store.record_replay_result(run_id, "", 0, finished=True)
        except Exception:
            log.exception("bulk replay %s: its end was not recorded", run_id)


def _month_start(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m").replace(tzinfo=LOCAL)
    except ValueError:
        return None


def _month_after(moment: datetime) -> datetime:
    return (moment.replace(day=28) + timedelta(days=4)).replace(day=1)
