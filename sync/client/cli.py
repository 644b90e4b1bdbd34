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
from sync.client.store import Attachment, LocalStore, store_path

MESSAGES = {
    "vi": {
        "not_logged_in": "Chưa đăng nhập. Hãy chạy: giupho-sync login ĐỊA_CHỈ_MÁY_CHỦ",
        "logged_in": "Đã đăng nhập {server} với tài khoản {username} ({full_name}).",
        "offline": "Không có mạng hoặc máy chủ không trả lời. Dữ liệu vẫn được giữ an toàn "
        "trên máy; hãy đồng bộ lại khi có mạng.",
        "auth": "Máy chủ từ chối thông tin đăng nhập: {reason}",
        "error": "Lỗi: {reason}",
        "no_forms": "Chưa có biểu mẫu nào. Hãy chạy: giupho-sync pull",
        "no_form": "Không có biểu mẫu '{form}' trên máy. Hãy chạy: giupho-sync pull",
        "saved": "Đã lưu vào hộp thư đi ({instance_id}). Sẽ gửi ở lần đồng bộ tới.",
        "no_households": "Chưa có hộ nào trên máy. Hãy chạy: giupho-sync pull",
        "pushed": "Đã gửi {pushed} bản: {results}. Đã tải lên {files} ảnh/tệp.",
        "pulled": "Đã nhận {changes} thay đổi ({pages} trang).{resync}",
        "resync": " Dữ liệu trên máy khác máy chủ nên đã tải lại toàn bộ.",
        "clock": "Đồng hồ máy lệch {offset} giây so với máy chủ.",
        "status": "Máy chủ: {server}\nTài khoản: {username}\nChờ gửi: {pending}\n"
        "Đã gửi, chờ tải ảnh: {sent}\nẢnh/tệp chờ tải lên: {files}\n"
        "Cần xem lại (máy chủ giữ lại): {kept}\nĐã gửi xong: {total}\n"
        "Lần đồng bộ cuối: {last}\nĐộ lệch đồng hồ: {offset}",
        "kept_item": "  {instance_id} [{state}] {message}",
        "password": "Mật khẩu",
        "username": "Tên đăng nhập",
        "step_push": "Đang gửi",
        "step_upload": "Đang tải ảnh",
        "step_pull": "Đang nhận",
        "never": "chưa",
    },
    "en": {
        "not_logged_in": "Not signed in. Run: giupho-sync login SERVER_URL",
        "logged_in": "Signed in to {server} as {username} ({full_name}).",
        "offline": "No network, or the server does not answer. Your data is safe on this "
        "device; sync again when the network is back.",
        "auth": "The server refused the credentials: {reason}",
        "error": "Error: {reason}",
        "no_forms": "No forms yet. Run: giupho-sync pull",
        "no_form": "Form '{form}' is not on this device. Run: giupho-sync pull",
        "saved": "Saved to the outbox ({instance_id}). It will be sent at the next sync.",
        "no_households": "No households on this device yet. Run: giupho-sync pull",
        "pushed": "Sent {pushed}: {results}. Uploaded {files} photos/files.",
        "pulled": "Received {changes} changes ({pages} pages).{resync}",
        "resync": " The local copy differed from the server, so it was downloaded again.",
        "clock": "The device clock is {offset} s off the server's.",
        "status": "Server: {server}\nUser: {username}\nWaiting to send: {pending}\n"
        "Sent, photos uploading: {sent}\nPhotos/files to upload: {files}\n"
        "To look at (kept by the server): {kept}\nSent in total: {total}\n"
        "Last sync: {last}\nClock offset: {offset}",
        "kept_item": "  {instance_id} [{state}] {message}",
        "password": "Password",
        "username": "User name",
        "step_push": "Sending",
        "step_upload": "Uploading photos",
        "step_pull": "Receiving",
        "never": "never",
    },
}


class Context:
    def __init__(self, home: Path, lang: str, attempts: int = 8) -> None:
        self.home = home
        self.lang = lang if lang in MESSAGES else "vi"
        self.attempts = attempts

    def t(self, key: str, **params) -> str:
        return MESSAGES[self.lang][key].format(**params)

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
            raise click.ClickException(self.t("not_logged_in"))
        return LocalStore(store_path(self.home, config["server"], config["username"]))

    def client(self, store: LocalStore) -> SyncClient:
        config = self.config()
        token = store.get_meta("token")
        if not token:
            raise click.ClickException(self.t("not_logged_in"))
        retry = RetryPolicy(attempts=self.attempts)
        return SyncClient(config["server"], token=token, lang=self.lang, retry=retry)

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Clear messages for what goes wrong with the network or the server."""
        try:
            yield
        except OfflineError as exc:
            raise click.ClickException(self.t("offline") + f"\n({exc.text(self.lang)})") from None
        except AuthError as exc:
            raise click.ClickException(self.t("auth", reason=exc.text(self.lang))) from None
        except SyncError as exc:
            raise click.ClickException(self.t("error", reason=exc.text(self.lang))) from None


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
        username = username or click.prompt(ctx.t("username"))
        password = password or click.prompt(ctx.t("password"), hide_input=True)
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
    click.echo(ctx.t("logged_in", server=server, username=username, full_name=full_name))


def _progress(ctx: Context) -> Callable[[str, int, int], None]:
    bars: dict[str, object] = {}

    def show(step: str, done: int, total: int) -> None:
        if not sys.stderr.isatty() or total <= 0:
            return
        bar = bars.get(step)
        if bar is None:
            bar = bars[step] = click.progressbar(
                length=total, label=ctx.t(f"step_{step}"), file=sys.stderr
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
    click.echo(ctx.t("pushed", pushed=report.pushed, results=results, files=report.files_uploaded))


def _say_pull(ctx: Context, report: SyncReport) -> None:
    resync = ctx.t("resync") if report.resync else ""
    click.echo(ctx.t("pulled", changes=report.changes, pages=report.pages, resync=resync))


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
        click.echo(ctx.t("clock", offset=round(report.clock_offset_ms / 1000)))


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
        click.echo(ctx.t("no_forms"))
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
        click.echo(ctx.t("no_households"))
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
        click.echo(ctx.t(
            "status", server=config.get("server"), username=config.get("username"),
            pending=counts.get("pending", 0), sent=counts.get("sent", 0),
            files=counts.get("files_to_upload", 0), kept=len(kept),
            total=store.get_meta("sent_total", "0"),
            last=store.get_meta("last_sync") or ctx.t("never"),
            offset="-" if offset is None else f"{offset / 1000:+.1f} s",
        ))  # fmt: skip
        for item in kept:
            click.echo(ctx.t("kept_item", instance_id=item.instance_id, state=item.state,
                             message=item.message or ""))  # fmt: skip
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
            raise click.ClickException(ctx.t("no_form", form=form_id))
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
        click.echo(ctx.t("saved", instance_id=filled.instance_id))
    finally:
        store.close()


def _content_type(path: Path) -> str:
    import mimetypes

    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


if __name__ == "__main__":  # pragma: no cover
    main()
