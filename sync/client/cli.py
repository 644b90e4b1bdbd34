"""`giupho-sync`: the offline workflow on the command line (login, forms, fill, sync).

    giupho-sync login http://127.0.0.1:5000        # user name and password -> a device token
    giupho-sync forms                              # forms you may fill (after a pull)
    giupho-sync fill giupho_household_visit        # asks each question, saves to the outbox
    giupho-sync households | status | push | pull | sync

Messages are in Vietnamese unless `--lang en` (or GIUPHO_SYNC_LANG=en). The
store lives in GIUPHO_SYNC_HOME (default ~/.giupho-sync): one SQLite file per
user and server; `config.json` there names the current one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from sync.client.api import RetryPolicy, SyncClient
from sync.client.engine import Synchronizer, SyncReport
from sync.client.errors import AuthError, OfflineError, SyncError
from sync.client.i18n import LANGUAGES, N_, translations
from sync.client.store import Attachment, LocalStore, store_path

#: The client's messages are English message ids (`ctx._("...")`); their Vietnamese is in the
#: gettext catalogue `giupho_sync` (see `sync.client.i18n`).

#: The label of each step of a sync, for its progress bar.
STEPS = {"push": N_("Sending"), "upload": N_("Uploading photos"), "pull": N_("Receiving")}


class Context:
    def __init__(self, home: Path, lang: str, attempts: int = 8) -> None:
        self.home = home
        self.lang = lang if lang in LANGUAGES else "vi"
        self.attempts = attempts
        self.translations = translations(self.lang)

    def _(self, message: str, **params) -> str:
        """`message` (an English message id) in the chosen language, `%(params)s` filled in."""
        text = self.translations.gettext(message)
        return text % params if params else text

    @property
    def config_path(self) -> Path:
        return self.home / "config.json"

    def config(self) -> dict:
        try:
            return json.loads(self.config_path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def save_config(self, config: dict) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(config, ensure_ascii=False, indent=2), "utf-8")
        os.replace(tmp, self.config_path)

    def store(self) -> LocalStore:
        config = self.config()
        if not config.get("server"):
            raise click.ClickException(self._("Not signed in. Run: giupho-sync login SERVER_URL"))
        return LocalStore(store_path(self.home, config["server"], config["username"]))

    def client(self, store: LocalStore) -> SyncClient:
        config = self.config()
        token = store.get_meta("token")
        if not token:
            raise click.ClickException(self._("Not signed in. Run: giupho-sync login SERVER_URL"))
        retry = RetryPolicy(attempts=self.attempts)
        return SyncClient(config["server"], token=token, lang=self.lang, retry=retry)

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Clear messages for what goes wrong with the network or the server."""
        try:
            yield
        except OfflineError as exc:
            offline = self._(
                "No network, or the server does not answer. Your data is safe on this device; "
                "sync again when the network is back."
            )
            raise click.ClickException(f"{offline}\n({exc.text(self.lang)})") from None
        except AuthError as exc:
            refused = self._(
                "The server refused the credentials: %(reason)s", reason=exc.text(self.lang)
            )
            raise click.ClickException(refused) from None
        except SyncError as exc:
            raise click.ClickException(
                self._("Error: %(reason)s", reason=exc.text(self.lang))
            ) from None


pass_context = click.make_pass_decorator(Context)


@click.group()
@click.option("--home", type=click.Path(path_type=Path), envvar="GIUPHO_SYNC_HOME",
              default=lambda: Path.home() / ".giupho-sync", show_default="~/.giupho-sync",
              help="Where the local store is kept.")  # fmt: skip
@click.option("--lang", type=click.Choice(["vi", "en"]), envvar="GIUPHO_SYNC_LANG", default="vi",
              show_default=True, help="Language of questions and messages.")  # fmt: skip
@click.option("--attempts", type=click.IntRange(1, 100), envvar="GIUPHO_SYNC_ATTEMPTS",
              default=8, show_default=True,
              help="Tries per request on network errors, 5xx and 429 (with backoff).")  # fmt: skip
@click.pass_context
def main(ctx: click.Context, home: Path, lang: str, attempts: int) -> None:
    """giupho-sync: collect household visits offline and sync them with a giupho server."""
    ctx.obj = Context(home, lang, attempts)


@main.command()
@click.argument("server")
@click.option("--username", "-u", help="User name (asked when not given).")
@click.option("--password", envvar="GIUPHO_SYNC_PASSWORD", help="Asked when not given.")
@click.option("--token", help="Use this device token instead of a password.")
@click.option("--device-name", default=lambda: f"giupho-sync ({socket.gethostname()})")
@pass_context
def login(ctx: Context, server: str, username, password, token, device_name) -> None:
    """Sign in to SERVER and keep a device token (the password is not stored)."""
    server = server.rstrip("/")
    if token is None:
        username = username or click.prompt(ctx._("User name"))
        password = password or click.prompt(ctx._("Password"), hide_input=True)
        with ctx.errors():
            client = SyncClient(server, lang=ctx.lang, retry=RetryPolicy(attempts=ctx.attempts))
            credential = client.register_device(username, password, device_name)
        username, full_name, token = credential.username, credential.full_name, credential.token
    else:
        username, full_name = username or "device", username or "device"
    store = LocalStore(store_path(ctx.home, server, username))
    store.set_meta("token", token)
    store.set_meta("username", username)
    store.close()
    ctx.save_config({"server": server, "username": username})
    click.echo(
        ctx._(
            "Signed in to %(server)s as %(username)s (%(full_name)s).",
            server=server,
            username=username,
            full_name=full_name,
        )
    )


def _progress(ctx: Context) -> Callable[[str, int, int], None]:
    bars: dict[str, object] = {}

    def show(step: str, done: int, total: int) -> None:
        if not sys.stderr.isatty() or total <= 0:
            return
        bar = bars.get(step)
        if bar is None:
            bar = bars[step] = click.progressbar(
                length=total, label=ctx._(STEPS[step]), file=sys.stderr
            )
            bar.__enter__()  # type: ignore[attr-defined]
        bar.length = max(total, 1)  # type: ignore[attr-defined]
        bar.update(done - bar.pos)  # type: ignore[attr-defined]
        if done >= total:
            bar.__exit__(None, None, None)  # type: ignore[attr-defined]
            bars.pop(step, None)

    return show


def _run(ctx: Context, action: Callable[[Synchronizer], SyncReport]) -> SyncReport:
    store = ctx.store()
    try:
        syncer = Synchronizer(store, ctx.client(store), progress=_progress(ctx))
        with ctx.errors():
            report = action(syncer)
        store.set_meta("last_sync", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        return report
    finally:
        store.close()


def _say_push(ctx: Context, report: SyncReport) -> None:
    results = ", ".join(f"{n} {k}" for k, n in sorted(report.results.items())) or "-"
    click.echo(
        ctx._(
            "Sent %(pushed)s: %(results)s. Uploaded %(files)s photos/files.",
            pushed=report.pushed,
            results=results,
            files=report.files_uploaded,
        )
    )


def _say_pull(ctx: Context, report: SyncReport) -> None:
    pulled = ctx._(
        "Received %(changes)s changes (%(pages)s pages).",
        changes=report.changes,
        pages=report.pages,
    )
    if report.resync:
        pulled += " " + ctx._(
            "The local copy differed from the server, so it was downloaded again."
        )
    click.echo(pulled)


@main.command()
@pass_context
def push(ctx: Context) -> None:
    """Send the outbox and upload its photos."""

    def action(syncer: Synchronizer) -> SyncReport:
        report = SyncReport()
        syncer.measure_clock(report)
        syncer.push(report)
        syncer.upload_files(report)
        return report

    _say_push(ctx, _run(ctx, action))


@main.command()
@pass_context
def pull(ctx: Context) -> None:
    """Receive forms, households and review returns."""

    def action(syncer: Synchronizer) -> SyncReport:
        report = SyncReport()
        syncer.measure_clock(report)
        return syncer.pull(report)

    _say_pull(ctx, _run(ctx, action))


@main.command(name="sync")
@pass_context
def sync_command(ctx: Context) -> None:
    """Push, then pull: everything in both directions."""
    report = _run(ctx, lambda syncer: syncer.sync())
    _say_push(ctx, report)
    _say_pull(ctx, report)
    if report.clock_offset_ms is not None and abs(report.clock_offset_ms) > 60_000:
        click.echo(
            ctx._(
                "The device clock is %(offset)s s off the server's.",
                offset=round(report.clock_offset_ms / 1000),
            )
        )


@main.command()
@pass_context
def forms(ctx: Context) -> None:
    """The forms on this device."""
    store = ctx.store()
    try:
        held = store.forms()
    finally:
        store.close()
    if not held:
        click.echo(ctx._("No forms yet. Run: giupho-sync pull"))
    for form in held:
        click.echo(f"{form['form_id']}  (v{form['version']})  {form.get('title', '')}")


@main.command()
@pass_context
def households(ctx: Context) -> None:
    """The households on this device (with your unsent changes)."""
    store = ctx.store()
    try:
        held = store.households()
    finally:
        store.close()
    if not held:
        click.echo(ctx._("No households on this device yet. Run: giupho-sync pull"))
    for household in held:
        props = household.get("properties") or {}
        status = props.get("poverty_status", "")
        mark = " *" if household.get("conflicts") else ""
        click.echo(f"{household['id']}  v{household.get('version')}  "
                   f"{household.get('label') or ''}  {household.get('village') or ''}  "
                   f"{status}{mark}")  # fmt: skip


@main.command()
@pass_context
def status(ctx: Context) -> None:
    """What waits to be sent, and what the server kept for review."""
    store = ctx.store()
    try:
        counts = store.counts()
        kept = [i for i in store.outbox() if i.state not in ("pending", "sent")]
        config = ctx.config()
        offset = store.clock_offset_ms
        click.echo(ctx._(
            "Server: %(server)s\nUser: %(username)s\nWaiting to send: %(pending)s\n"
            "Sent, photos uploading: %(sent)s\nPhotos/files to upload: %(files)s\n"
            "To look at (kept by the server): %(kept)s\nSent in total: %(total)s\n"
            "Last sync: %(last)s\nClock offset: %(offset)s",
            server=config.get("server"), username=config.get("username"),
            pending=counts.get("pending", 0), sent=counts.get("sent", 0),
            files=counts.get("files_to_upload", 0), kept=len(kept),
            total=store.get_meta("sent_total", "0"),
            last=store.get_meta("last_sync") or ctx._("never"),
            offset="-" if offset is None else f"{offset / 1000:+.1f} s",
        ))  # fmt: skip
        for item in kept:
            click.echo(f"  {item.instance_id} [{item.state}] {item.message or ''}")
        if kept:
            click.echo(ctx._(
                "These are not sent again. Do what each message says; for one the server "
                "kept for an administrator, tell your supervisor its id and do not enter "
                "it again unless they ask you to."
            ))  # fmt: skip
    finally:
        store.close()


@main.command()
@click.argument("form_id")
@pass_context
def fill(ctx: Context, form_id: str) -> None:
    """Fill FORM_ID question by question and save it to the outbox."""
    from forms.load import load_form  # the forms engine: loaded only for filling
    from sync.client.fill import Questionnaire

    store = ctx.store()
    try:
        found = store.form_xform(form_id)
        if found is None:
            raise click.ClickException(
                ctx._("Form '%(form)s' is not on this device. Run: giupho-sync pull", form=form_id)
            )
        version, xform = found
        form = load_form(xform, f"{form_id}.xml")
        username = ctx.config().get("username", "")
        questionnaire = Questionnaire(
            form,
            ask=lambda prompt: click.prompt(prompt, default="", show_default=False,
                                            prompt_suffix=""),
            say=click.echo,
            lang=ctx.lang,
            households=store.households(),
            username=username,
            device_id=f"giupho-sync:{socket.gethostname()}",
        )  # fmt: skip
        filled = questionnaire.run()
        files = [
            Attachment(name, Path(path).read_bytes(), _content_type(Path(path)))
            for name, path in filled.files
        ]
        held = store.household(filled.entity_id) if filled.entity_id else None
        item = {
            "instance_id": filled.instance_id,
            "form_id": form.form_id,
            "version": version,
            "answers": filled.answers,
            "device_time": dt.datetime.now(dt.UTC).isoformat(),
            "clock_offset_ms": store.clock_offset_ms,
        }
        store.save(
            item,
            files,
            household_id=filled.entity_id,
            base_version=filled.base_version,
            base=(held or {}).get("server_properties") if held else None,
            edits=filled.properties if held else None,
        )
        click.echo(
            ctx._(
                "Saved to the outbox (%(instance_id)s). It will be sent at the next sync.",
                instance_id=filled.instance_id,
            )
        )
    finally:
        store.close()


def _content_type(path: Path) -> str:
    import mimetypes

    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


if __name__ == "__main__":  # pragma: no cover
    main()
