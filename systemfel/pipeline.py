"""The build: a thin composition of the stages, in the order data flows.

Per file (one transaction each): PDF -> blocks -> passages -> personal data masked ->
labels and figures. Then over the corpus: vectors (cached) -> themes -> clusters.
Each stage lives in its own package; this module only wires them to the store.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout
from pebble import ProcessPool
from pebble.common import ProcessExpired

from systemfel.base.filenames import display_name, path_key, printable
from systemfel.base.hashing import file_sha256
from systemfel.base.records import DocumentMeta, Passage
from systemfel.ingest.ocr import resolve_lang, scanned_pages
from systemfel.models.embed import load_embedder
from systemfel.models.embed.pool import ParallelEmbedder
from systemfel.models.labelled import DEFAULT_LABELLED, LabelledExample, read_labelled
from systemfel.models.themes import Codebook
from systemfel.nlp.actors import load_actor_entries
from systemfel.nlp.pii import PiiDetector
from systemfel.nlp.reader import PassageReader
from systemfel.searchcache import build_engine as load_search_engine
from systemfel.reading import FileReader, ReadResult, init_worker, read_in_worker
from systemfel.recurring import RecurringStage
from systemfel.stages import THEMED_KINDS, AnalysisInput, ClusterStage, EmbeddingStage, ThemeStage
from systemfel.store import Store

log = logging.getLogger(__name__)

OCR_PAGE_SECONDS = 60.0  # time a scanned page may add to a file's timeout

Progress = Callable[[str, int, int], None]

__all__ = ["THEMED_KINDS", "BuildError", "BuildOptions", "BuildSummary", "FileResult", "build", "load_search_engine"]


class BuildError(Exception):
    """A build that cannot start or go on, explained in Swedish."""


@dataclass
class BuildOptions:
    """Choices a user can make for one build."""

    embedder: str | None = None  # None: the bundled multilingual-e5-small
    keep_pii: bool = False
    meta_overrides: DocumentMeta = field(default_factory=DocumentMeta)
    codebook: Path | None = None
    example_files: tuple[Path, ...] = ()  # labelled examples (JSON lines) besides the shipped ones
    default_examples: bool = True  # use the labelled sentences shipped with the product
    actor_files: tuple[Path, ...] = ()
    relabel: bool = False
    regroup: bool = False  # group every statement into recurring issues again, not just the added ones
    analyse: bool = True  # embeddings, themes, clusters
    theme_params: dict = field(default_factory=dict)  # ThemeAssigner settings (weights) other than its defaults
    lock_timeout: float = 0.0  # seconds to wait for another build on the same database
    max_pages: int | None = None
    max_bytes: int | None = None
    workers: int = 2  # reader and embedder processes; 0 reads and embeds in this process (no timeout)
    file_timeout: float = 300.0  # seconds one file may take before it is given up (plus OCR_PAGE_SECONDS a scanned page)
    ocr: bool = True  # read scanned pages with Tesseract
    ocr_lang: str | None = None  # Tesseract languages; None: swe, plus eng when installed

    def check(self) -> None:
        """Load the user's codebook, example and actor files now, so a broken one stops the
        build before anything is read (CodebookError / LabelledExamplesError / ActorFileError,
        in Swedish)."""
        if self.codebook is not None:
            Codebook.load(self.codebook)
        for path in self.example_files:
            read_labelled(path)
        load_actor_entries(self.actor_files)


def build_codebook(store: Store, path: Path | None = None) -> Codebook:
    """The codebook a user names, else the one the store's last build used, else the shipped one."""
    if path is not None:
        return Codebook.load(path)
    rows = store.codebook()
    return Codebook.from_dict(rows, source=f"kodboken i {store.path}") if rows else Codebook.load()


def labelled_examples(store: Store, options: BuildOptions) -> list:
    """The labelled examples theme assignment learns from: the shipped sentences, the user's
    files and the theme corrections made in the explorer."""
    examples = read_labelled(DEFAULT_LABELLED) if options.default_examples else []
    for path in options.example_files:
        examples += read_labelled(path)
    for row in store.theme_corrections():
        examples.append(LabelledExample(row["text"], (row["slug"],), Path(row["file"]).stem, "rättelse"))
    for row in store.imported_examples():  # codes brought back from a QDA tool (systemfel import qdpx)
        examples.append(LabelledExample(row["text"], (row["theme"],), row["doc"], row["source"] or "import"))
    return examples


@dataclass
class FileResult:
    path: str
    status: str  # new, replaced, unchanged, duplicate, failed
    message: str = ""
    pages: int = 0
    passages: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass
class BuildSummary:
    files: list[FileResult] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.failed]


STATUS_SV = {
    "new": "inläst",
    "replaced": "ersatt (filen hade ändrats)",
    "unchanged": "oförändrad, hoppades över",
    "duplicate": "dubblett, hoppades över",
    "failed": "misslyckades",
}


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[FileResult]]:
    """Expand folders to the PDFs inside them; named paths that do not exist are reported."""
    found: list[Path] = []
    missing: list[FileResult] = []
    for path in paths:
        if path.is_dir():
            pdfs = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf")
            if not pdfs:
                missing.append(FileResult(path_key(path), "failed", f"Mappen {path_key(path)} innehåller inga PDF-filer."))
            found.extend(pdfs)
        elif path.is_file():
            found.append(path)
        else:
            missing.append(FileResult(path_key(path), "failed", f"Filen eller mappen {path_key(path)} finns inte."))
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique, missing


def _noop(stage: str, done: int, total: int) -> None:
    return None


class Builder:
    """Runs one build against one store; holds the stage objects it needs."""

    def __init__(self, store: Store, options: BuildOptions | None = None, progress: Progress | None = None):
        self.store = store
        self.options = options or BuildOptions()
        self.progress = progress or _noop
        self._reader = None
        self._pii = None
        self.ocr_lang = resolve_lang(self.options.ocr_lang) if self.options.ocr else ""

    @property
    def reader(self) -> PassageReader:
        if self._reader is None:
            self._reader = PassageReader(actor_paths=tuple(self.options.actor_files))
        return self._reader

    # --------------------------------------------------------------- files
    def _triage(self, path: Path) -> tuple[FileResult | None, str]:
        """Decide cheaply whether a file needs reading: (result if not, sha256)."""
        key = path_key(path)
        try:
            sha = file_sha256(path)
        except OSError as exc:
            return FileResult(key, "failed", f"Kan inte läsa filen: {exc.strerror or exc}"), ""
        state = self.store.document_state(key)
        if state and state[0] == sha and state[1] == "ok":
            return FileResult(key, "unchanged", STATUS_SV["unchanged"]), sha
        twin = self.store.path_with_sha(sha, key)
        if twin:
            return FileResult(key, "duplicate", f"Samma innehåll som {Path(twin).name}, som redan finns i databasen."), sha
        return None, sha

    def _ocr_cache(self, sha: str) -> dict[int, str]:
        """Pages of this file OCR read in an earlier build (JSON by page number)."""
        return self.store.ocr_pages(sha, self.ocr_lang) if self.options.ocr and sha else {}

    def _timeout(self, path: Path, cached: dict[int, str]) -> float:
        if not self.options.ocr:
            return self.options.file_timeout
        return self.options.file_timeout + OCR_PAGE_SECONDS * max(0, scanned_pages(path) - len(cached))

    def _store_result(self, result: ReadResult) -> FileResult:
        if result.ocr_pages:  # kept even when the file fails later: OCR never reads it again
            self.store.save_ocr_pages(result.sha256, self.ocr_lang, result.ocr_pages)
        if result.error:
            self.store.record_failure(path=result.path, sha256=result.sha256, message=result.error, file=result.file)
            return FileResult(result.path, "failed", result.error, pages=result.pages)
        existed = self.store.document_state(result.path) is not None
        self.store.replace_document(
            path=result.path,
            file=result.file or None,
            sha256=result.sha256,
            meta=result.meta or DocumentMeta(),
            pages=result.pages,
            blocks=result.blocks,
            passages=result.passages,
            passage_pii=result.passage_pii,
            labels=result.labels,
            figures=result.figures,
        )
        status = "replaced" if existed else "new"
        return FileResult(
            result.path, status, STATUS_SV[status], pages=result.pages, passages=len(result.passages),
            warnings=result.warnings,
        )  # fmt: skip

    def ingest_files(self, files: list[Path]) -> list[FileResult]:
        """Read new or changed files in worker processes, store each one as it arrives."""
        results: dict[Path, FileResult] = {}
        todo: list[tuple[Path, str]] = []
        first_with_sha: dict[str, Path] = {}
        for path in files:
            skipped, sha = self._triage(path)
            if not skipped and sha in first_with_sha:
                twin = display_name(first_with_sha[sha])
                skipped = FileResult(path_key(path), "duplicate", f"Samma innehåll som {twin} i samma körning.")
            if skipped:
                results[path] = skipped
            else:
                first_with_sha[sha] = path
                todo.append((path, sha))
        done = len(results)
        self.progress("Läser in PDF", done, len(files))
        if todo and self.options.workers <= 0:
            local = FileReader(self.options)
            for path, sha in todo:
                try:
                    read = local.read(path, sha, self._ocr_cache(sha))
                except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
                    log.error("unexpected error while reading %s: %s", path_key(path), exc, exc_info=exc)
                    message = printable(f"Oväntat fel vid inläsning: {type(exc).__name__}: {exc}")
                    self._record_failure(path, sha, message)
                    results[path] = FileResult(path_key(path), "failed", message)
                else:
                    results[path] = self._store_result(read)
                done += 1
                self.progress("Läser in PDF", done, len(files))
        elif todo:
            for path, outcome in self._read_in_pool(todo):
                results[path] = outcome if isinstance(outcome, FileResult) else self._store_result(outcome)
                done += 1
                self.progress("Läser in PDF", done, len(files))
        return [results[p] for p in files]

    def _read_in_pool(self, todo: list[tuple[Path, str]]):
        workers = min(self.options.workers, len(todo))
        # spawn, not fork: the parent may hold torch and thread pools that do not survive a fork
        pool = ProcessPool(
            max_workers=workers,
            initializer=init_worker,
            initargs=(self.options, os.getpid()),
            context=multiprocessing.get_context("spawn"),
        )
        try:
            futures = []
            for path, sha in todo:
                cached = self._ocr_cache(sha)
                timeout = self._timeout(path, cached)
                futures.append((path, sha, timeout, pool.schedule(read_in_worker, args=(path, sha, cached), timeout=timeout)))
            for path, sha, timeout, future in futures:
                try:
                    yield path, future.result()
                except FutureTimeout:
                    message = (
                        f"Inläsningen tog mer än {timeout:.0f} sekunder och avbröts. "
                        "Filen kan vara trasig eller mycket stor."
                    )
                    self._record_failure(path, sha, message)
                    yield path, FileResult(path_key(path), "failed", message)
                except ProcessExpired as exc:
                    message = f"Inläsningen kraschade (kod {exc.exitcode}); filen kan vara trasig."
                    self._record_failure(path, sha, message)
                    yield path, FileResult(path_key(path), "failed", message)
                except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
                    log.error("unexpected error while reading %s: %s", path_key(path), exc, exc_info=exc)
                    message = printable(f"Oväntat fel vid inläsning: {type(exc).__name__}: {exc}")
                    self._record_failure(path, sha, message)
                    yield path, FileResult(path_key(path), "failed", message)
        finally:
            pool.stop()
            pool.join()

    def _record_failure(self, path: Path, sha256: str, message: str) -> None:
        """A file that failed outside a worker: its name and message masked like everything stored."""
        if not self.options.keep_pii:
            if self._pii is None:
                self._pii = PiiDetector()
            file, message = self._pii.masked(display_name(path)), self._pii.masked(printable(message))
        else:
            file, message = display_name(path), printable(message)
        self.store.record_failure(path=path_key(path), sha256=sha256, message=message, file=file)

    def relabel_all(self) -> None:
        """Read every stored passage again (after the actor list or cue words changed)."""
        rows = self.store.passages_for_labelling(only_missing=False)
        by_doc: dict[int, list[dict]] = {}
        for row in rows:
            by_doc.setdefault(row["doc_id"], []).append(row)
        for i, (doc_id, doc_rows) in enumerate(by_doc.items()):
            passages = [
                Passage(text=r["text"], page=r["page"], heading_path=r["heading_path"], block_kind=r["block_kind"],
                        seq=r["seq"], context=r["context"])
                for r in doc_rows
            ]
            labels = self.reader.label(passages)
            self.store.save_labels(zip([r["id"] for r in doc_rows], labels))
            self.progress("Läser svenska texten", i + 1, len(by_doc))

    def stages(self, codebook: Codebook) -> list:
        """The corpus-level stages in the order data flows; each decides itself whether to run."""
        themes = ThemeStage(codebook, labelled_examples(self.store, self.options), params=self.options.theme_params)
        return [EmbeddingStage(), themes, ClusterStage(codebook), RecurringStage(
            regroup=self.options.regroup, themes=themes, actor_files=self.options.actor_files
        )]

    def analyse(self) -> list[str]:
        """Corpus-level stages: vectors, themes, clusters. Work whose signature and input are unchanged is not redone."""
        passages = self.store.passages()
        if not passages:
            return []
        codebook = Codebook.load(self.options.codebook)
        self.store.save_codebook(codebook.to_rows())
        embedder = load_embedder(self.options.embedder)
        with ParallelEmbedder(embedder, max(1, self.options.workers)) as parallel:
            data = AnalysisInput(self.store, parallel, passages, self.progress)
            return [stage.name for stage in self.stages(codebook) if stage.run(data)]

    # ----------------------------------------------------------------- run
    def run(self, paths: list[Path]) -> BuildSummary:
        files, missing = discover(paths)
        summary = BuildSummary(files=list(missing))
        summary.files += self.ingest_files(files)
        if self.options.relabel:
            self.relabel_all()
        summary.stages.append("inläsning")
        if self.options.analyse:
            summary.stages += self.analyse()
        return summary


def build(
    store: Store,
    paths: list[Path],
    *,
    options: BuildOptions | None = None,
    progress: Progress | None = None,
) -> BuildSummary:
    """Ingest and analyse, holding the database's build lock so two builds never interleave."""
    options = options or BuildOptions()
    options.check()
    # the resolved path: a build through a symlink must meet a build through the real path
    lock = FileLock(str(store.path.resolve()) + ".lock")
    try:
        lock.acquire(timeout=options.lock_timeout)
    except Timeout as exc:
        raise BuildError(
            f"En annan körning bygger redan databasen {store.path}. Vänta tills den är klar, "
            "eller ange --wait SEKUNDER för att vänta på den."
        ) from exc
    try:
        return Builder(store, options, progress).run(paths)
    finally:
        lock.release()
