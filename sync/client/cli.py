"""`giupho-sync`: the offline workflow on the command line (login, forms, fill, sync).

    giupho-sync login http://127.0.0.1:5000        # user name and password -> a device token
    giupho-sync forms                              # forms you may fill (after a pull)
    giupho-sync fill giupho_household_visit        # asks each question, saves to the outbox
    giupho-sync households | status | push | pull | sync
    giupho-sync returned                           # records a reviewer sent back, with why
    giupho-sync correct 1                          # reopen one, answers filled in: sent as an edit

An interrupted `fill` (Ctrl-C, a closed terminal, a flat battery) keeps its
answers as a draft, saved after every answer; the next `fill` of that form
offers to go on where it stopped.

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
from sync.client.i18n import LANGUAGES, N_, YES, translations
from sync.client.store import KEPT_STATES, Attachment, LocalStore, store_path

#: The client's messages are English message ids (`ctx._("...")`); their Vietnamese is in the
#: gettext catalogue `giupho_sync` (see `sync.client.i18n`).

#: The label of each step of a sync, for its progress bar.
STEPS = {"push": N_("Sending"), "upload": N_("Uploading photos"), "pull": N_("Receiving")}
#: The outbox states the server's answers leave an item in, as the officer reads them.
STATES = {
    "conflict": N_("conflict"),
    "invalid": N_("has problems"),
    "quarantined": N_("kept aside"),
    "refused": N_("refused"),
}


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

    def ngettext(self, singular: str, plural: str, count: int, **params) -> str:
        """The form of `singular`/`plural` for `count` in the chosen language (gettext's
        plural rules: one form in Vietnamese), `%(count)s` and `params` filled in."""
        return self.translations.ngettext(singular, plural, count) % (params | {"count": count})

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


def _run(ctx: Context, action: Callable[[Synchronizer], SyncReport]) -> SyncReport:
    from sync.client.progress import TerminalProgress  # tqdm: loaded only for a sync

    store = ctx.store()
    bars = TerminalProgress(lambda step: ctx._(STEPS[step]))
    try:
        syncer = Synchronizer(store, ctx.client(store), progress=bars)
        with ctx.errors():
            report = action(syncer)
        store.set_meta("last_sync", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        return report
    finally:
        bars.close()
        store.close()


def _result_words(ctx: Context, result: str, count: int) -> str:
    """What the server did with `count` items, in words ("2 accepted", "2 đã được nhận")."""
    words = {
        "accepted": lambda: ctx.ngettext("%(count)s accepted", "%(count)s accepted", count),
        "duplicate": lambda: ctx.ngettext(
            "%(count)s already on the server", "%(count)s already on the server", count
        ),
        "conflict": lambda: ctx.ngettext("%(count)s conflict", "%(count)s conflicts", count),
        "invalid": lambda: ctx.ngettext(
            "%(count)s with problems to fix", "%(count)s with problems to fix", count
        ),
        "quarantined": lambda: ctx.ngettext("%(count)s kept aside", "%(count)s kept aside", count),
        "refused": lambda: ctx.ngettext("%(count)s refused", "%(count)s refused", count),
        "error": lambda: ctx.ngettext(
            "%(count)s not received (server error, sent again later)",
            "%(count)s not received (server error, sent again later)",
            count,
        ),
    }
    return words[result]() if result in words else f"{count} {result}"


def _say_push(ctx: Context, report: SyncReport) -> None:
    results = ", ".join(_result_words(ctx, k, n) for k, n in sorted(report.results.items()))
    sent = ctx.ngettext("Sent %(count)s form", "Sent %(count)s forms", report.pushed)
    files = ctx.ngettext(
        "Uploaded %(count)s photo/file.", "Uploaded %(count)s photos/files.", report.files_uploaded
    )
    click.echo(f"{sent}: {results or '-'}. {files}")


def _say_pull(ctx: Context, report: SyncReport) -> None:
    pulled = ctx.ngettext(
        "Received %(count)s change (%(pages)s pages).",
        "Received %(count)s changes (%(pages)s pages).",
        report.changes,
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
        kept = [i for i in store.outbox() if i.state in KEPT_STATES]
        returned = [r for r in store.returned() if not r["correction"]]
        config = ctx.config()
        offset = store.clock_offset_ms
        click.echo(ctx._(
            "Server: %(server)s\nUser: %(username)s\nWaiting to send: %(pending)s\n"
            "Sent, photos uploading: %(sent)s\nPhotos/files to upload: %(files)s\n"
            "Returned by a reviewer, to correct: %(returned)s\n"
            "To look at (kept by the server): %(kept)s\nSent in total: %(total)s\n"
            "Last sync: %(last)s\nClock offset: %(offset)s",
            server=config.get("server"), username=config.get("username"),
            pending=counts.get("pending", 0), sent=counts.get("sent", 0),
            files=counts.get("files_to_upload", 0), returned=len(returned), kept=len(kept),
            total=store.get_meta("sent_total", "0"),
            last=store.get_meta("last_sync") or ctx._("never"),
            offset="-" if offset is None else f"{offset / 1000:+.1f} s",
        ))  # fmt: skip
        if returned:
            click.echo(ctx._("See them: giupho-sync returned; correct one: giupho-sync correct N"))
        for item in kept:
            state = ctx._(STATES[item.state]) if item.state in STATES else item.state
            click.echo(f"  {item.instance_id} [{state}] {item.message or ''}")
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
    """Fill FORM_ID question by question and save it to the outbox (an interrupted form is
    kept as a draft: the next fill of the form offers to go on with it)."""
    store = ctx.store()
    try:
        key = f"form:{form_id}"
        draft = _offer_draft(ctx, store, key)
        version = draft["version"] if draft else None
        found = store.form_xform(form_id, version) or store.form_xform(form_id)
        if found is None:
            raise click.ClickException(
                ctx._("Form '%(form)s' is not on this device. Run: giupho-sync pull", form=form_id)
            )
        _fill(ctx, store, key, found, (draft or {}).get("data") or {})
    finally:
        store.close()


def _offer_draft(ctx: Context, store: LocalStore, key: str) -> dict | None:
    """The draft kept under `key` if the officer goes on with it (else it is dropped)."""
    draft = store.draft(key)
    if draft is None or not draft["data"].get("answered"):
        return None
    click.echo(ctx._(
        "A draft of this form was kept on %(when)s; it stopped at «%(question)s».",
        when=_local_time(draft["updated_at"]),
        question=draft["data"].get("stopped_at") or "?",
    ))  # fmt: skip
    answer = click.prompt(ctx._("Go on with it? (y/n)"), default="c", show_default=False)
    if answer.strip().lower() in YES:
        return draft
    store.drop_draft(key)
    click.echo(ctx._("The draft was dropped; starting again."))
    return None


def _fill(ctx: Context, store: LocalStore, key: str, found: tuple[str, bytes], draft: dict) -> None:
    """Ask the form's questions (a draft's answers taken, a returned record's offered), keep
    the draft after each answer, and save the finished form to the outbox."""
    from forms.load import load_form  # the forms engine: loaded only for filling
    from forms.poverty import load_standards
    from forms.poverty import media as poverty_media
    from sync.client.fill import Questionnaire

    version, xform = found
    form = load_form(xform, "form.xml")
    # The poverty lines the form reads (poverty_lines.csv): the shipped standards, as the
    # server gives Collect (a province's own higher lines do not reach this client yet).
    poverty_media.attach(form, load_standards())
    replaces, entity_id = draft.get("replaces"), draft.get("entity_id")

    def keep() -> None:
        state = questionnaire.state() | {"replaces": replaces, "entity_id": entity_id}
        store.save_draft(key, form.form_id, version, state)

    questionnaire = Questionnaire(
        form,
        ask=lambda prompt: click.prompt(prompt, default="", show_default=False,
                                        prompt_suffix=""),
        say=click.echo,
        lang=ctx.lang,
        households=store.households(),
        username=ctx.config().get("username", ""),
        device_id=f"giupho-sync:{socket.gethostname()}",
        answered=draft.get("answered"),
        defaults=draft.get("defaults"),
        files=draft.get("files"),
        on_answer=keep,
        replaces=replaces,
        entity_id=entity_id,
    )  # fmt: skip
    try:
        filled = questionnaire.run()
    except (click.Abort, KeyboardInterrupt):  # Ctrl-C (at a prompt or between), end of input
        command = (f"giupho-sync correct {replaces}" if replaces
                   else f"giupho-sync fill {form.form_id}")  # fmt: skip
        click.echo("\n" + ctx._(
            "Stopped at «%(question)s». Your answers are kept on this device as a draft; "
            "to go on where you stopped, run: %(command)s",
            question=questionnaire.asking or "?", command=command,
        ), err=True)  # fmt: skip
        sys.exit(130)
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
    if replaces:
        item["deprecated_id"] = replaces
    store.save(
        item,
        files,
        household_id=filled.entity_id,
        base_version=filled.base_version,
        base=(held or {}).get("server_properties") if held else None,
        edits=filled.properties if held else None,
        draft=key,
    )
    click.echo(
        ctx._(
            "Saved to the outbox (%(instance_id)s). It will be sent at the next sync.",
            instance_id=filled.instance_id,
        )
    )


@main.command()
@pass_context
def returned(ctx: Context) -> None:
    """Records a reviewer sent back for correction, with the reviewer's comment."""
    store = ctx.store()
    try:
        records = store.returned()
        if not records:
            click.echo(ctx._("No record was returned for correction."))
            return
        titles = {f["form_id"]: f.get("title") or f["form_id"] for f in store.forms()}
        for number, record in enumerate(records, 1):
            household = _household_words(store, record)
            form = titles.get(record.get("form_id"), record.get("form_id"))
            when = _local_time(record.get("submitted_at") or record.get("returned_at"))
            click.echo(f"{number}. {household} · {form} · {when}")
            click.echo("   " + ctx._("Reviewer: %(comment)s", comment=record.get("comment") or "-"))
            if record["correction"]:
                click.echo("   " + ctx._("Corrected; waiting to be sent at the next sync."))
            click.echo(f"   ({record['instance_id']})")
        click.echo(ctx._("To correct one: giupho-sync correct N"))
    finally:
        store.close()


@main.command()
@click.argument("which")
@pass_context
def correct(ctx: Context, which: str) -> None:
    """Reopen a returned record (its number in `returned`, or its instanceID) with its answers
    filled in; the corrected record is sent as an edit of it."""
    from forms.load import load_form
    from sync.client.fill import known_answers

    store = ctx.store()
    try:
        records = store.returned()
        record = None
        if which.isdigit() and 1 <= int(which) <= len(records):
            record = records[int(which) - 1]
        else:
            matches = [r for r in records if r["instance_id"].removeprefix("uuid:").startswith(
                which.removeprefix("uuid:"))]  # fmt: skip
            record = matches[0] if len(matches) == 1 else None
        if record is None:
            raise click.ClickException(
                ctx._("No returned record %(which)s. See them: giupho-sync returned", which=which)
            )
        if record["correction"]:
            raise click.ClickException(
                ctx._("This record is already corrected; it will be sent at the next sync.")
            )
        if not record.get("answers"):
            raise click.ClickException(
                ctx._("The answers of this record are not on this device. Run: giupho-sync pull")
            )
        form_id = record["form_id"]
        found = store.form_xform(form_id, record.get("version")) or store.form_xform(form_id)
        if found is None:
            raise click.ClickException(
                ctx._("Form '%(form)s' is not on this device. Run: giupho-sync pull", form=form_id)
            )
        key = f"return:{record['instance_id']}"
        click.echo(ctx._("Correcting %(household)s. Reviewer: %(comment)s",
                         household=_household_words(store, record),
                         comment=record.get("comment") or "-"))  # fmt: skip
        draft = _offer_draft(ctx, store, key)
        if draft is not None:
            data = draft["data"]
        else:
            answers = record["answers"]
            entity = (answers.get("meta") or {}).get("entity") or {}
            data = {
                "defaults": known_answers(load_form(found[1], "form.xml"), answers),
                "replaces": record["instance_id"],
                "entity_id": entity.get("@id") if isinstance(entity, dict) else None,
            }
        _fill(ctx, store, key, found, data)
    finally:
        store.close()


def _household_words(store: LocalStore, record: dict) -> str:
    """The household a returned record is about: its label as the device holds it, else the
    label the record itself gave it."""
    household = store.household(record["household_id"]) if record.get("household_id") else None
    entity = ((record.get("answers") or {}).get("meta") or {}).get("entity") or {}
    label = (household or {}).get("label") or (entity.get("label") if isinstance(entity, dict)
                                               else None)  # fmt: skip
    return str(label or record.get("household_id") or "?")


def _local_time(text: str | None) -> str:
    """An ISO time as the officer reads it: dd/mm/yyyy HH:MM on this device's clock."""
    if not text:
        return "-"
    try:
        when = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    if when.tzinfo is not None:
        when = when.astimezone()
    return when.strftime("%d/%m/%Y %H:%M")


def _content_type(path: Path) -> str:
    import mimetypes

    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


if __name__ == "__main__":  # pragma: no cover
    main()
