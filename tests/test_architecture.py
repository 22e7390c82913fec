"""The floor plan holds: layers import only downwards, the wheel installs only `systemfel`,
analysis stages re-run when what they depend on changes, and the explorer names themes by the
codebook the store was built with."""
from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from systemfel.explorer.main import discover_pages
from systemfel.models.themes import Codebook
from systemfel.pipeline import BuildOptions, build, build_codebook
from systemfel.store import Store
from tests.test_app import copy_db

ROOT = Path(__file__).resolve().parent.parent
# where each installed package's source lives in the repository (pyproject's package-dir)
SOURCE_DIRS = {"systemfel.ingest": "ingest", "systemfel.nlp": "nlp", "systemfel.models": "models", "systemfel": "systemfel"}
# lowest first: a module may import its own layer and the layers below it, never above
LAYERS = ["systemfel.base", "systemfel.ingest", "systemfel.nlp", "systemfel.models", "roof"]
# a module that imports inside functions says why, at module level, with this marker
LAZY_MARKER = "# Imports inside functions:"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    package = next(name for name, folder in SOURCE_DIRS.items() if rel.parts[0] == folder)
    return ".".join([package, *[p for p in rel.parts[1:] if p != "__init__"]])


def our_modules() -> dict[str, Path]:
    return {module_name(p): p for folder in SOURCE_DIRS.values() for p in (ROOT / folder).rglob("*.py")}


def layer(module: str) -> str:
    return next((name for name in LAYERS[:-1] if module == name or module.startswith(name + ".")), "roof")


def imports_of(path: Path) -> list[tuple[str, int, bool]]:
    """(module imported, line, inside a function) for every import of our own code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside = {
        id(node)
        for fn in ast.walk(tree)
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(fn)
    }
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found += [(name, node.lineno, id(node) in inside) for name in names]
    return found


def test_every_source_file_belongs_to_a_package():
    modules = our_modules()
    assert "systemfel.ingest.reader" in modules and "systemfel.base.records" in modules
    assert all(path.is_relative_to(ROOT) for path in modules.values())


@pytest.mark.parametrize("module", sorted(our_modules()))
def test_imports_point_down(module):
    path = our_modules()[module]
    own = LAYERS.index(layer(module))
    for imported, line, _ in imports_of(path):
        if imported.split(".")[0] in {"ingest", "nlp", "models"}:
            pytest.fail(f"{path}:{line} imports the generic top-level name {imported}; use systemfel.{imported}")
        if not imported.startswith("systemfel"):
            continue
        assert LAYERS.index(layer(imported)) <= own, f"{path}:{line}: {layer(module)} must not import {imported}"
        if imported.startswith("systemfel.explorer"):
            # the explorer shows; nothing else (exports, QDA exchange, CLI) depends on how it shows
            assert module.startswith("systemfel.explorer"), f"{path}:{line} imports the explorer ({imported})"
        if layer(module) == "systemfel.models":
            assert not imported.startswith("systemfel.store"), f"{path}:{line}: models/ gets interfaces, not the store"


@pytest.mark.parametrize("module", sorted(our_modules()))
def test_imports_inside_functions_are_explained(module):
    path = our_modules()[module]
    lazy = [(name, line) for name, line, inside in imports_of(path) if inside]
    if lazy:
        assert LAZY_MARKER in path.read_text(encoding="utf-8"), (
            f"{path} imports inside functions {lazy} without saying why ({LAZY_MARKER} ...)"
        )


def test_the_layer_check_catches_an_upward_import(tmp_path):
    """The rule is not vacuous: a base module importing the store is classified as upward."""
    assert LAYERS.index(layer("systemfel.store")) > LAYERS.index(layer("systemfel.base.records"))
    assert LAYERS.index(layer("systemfel.nlp.reader")) > LAYERS.index(layer("systemfel.ingest.reader"))
    assert layer("systemfel.models.search") == "systemfel.models" and layer("systemfel.pipeline") == "roof"


def test_the_wheel_installs_only_systemfel(tmp_path):
    """`pip install .` puts nothing generic (models, nlp, ingest, app) into site-packages."""
    source = tmp_path / "src"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((ROOT / name).read_bytes())
    out = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (wheel,) = out.glob("systemfel-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"systemfel", next(t for t in top if t.endswith(".dist-info"))}, top
    for expected in ("systemfel/ingest/reader.py", "systemfel/nlp/data/cues.yaml", "systemfel/models/data/codebook.yaml",
                     "systemfel/explorer/views/search.py", "systemfel/explorer/main.py"):  # fmt: skip
        assert expected in names


# ------------------------------------------------------------ stages and codebook
CUSTOM_CODEBOOK = """
themes:
  - slug: nas
    name: Kontakt och nåbarhet
    description: Myndigheter och vården går inte att nå, väntetider i telefon, stängda kontor.
    examples: [svårt att nå handläggaren per telefon, lång väntan i telefonkö]
  - slug: pengar
    name: Pengar och försörjning
    description: Ersättningar, försörjningsstöd, skulder och ekonomiskt bistånd.
    examples: [försörjningsstödet räcker inte, skulder hos Kronofogden]
  - slug: samarbete
    name: Samarbete mellan huvudmän
    description: Vården, kommunen och myndigheterna samarbetar inte, ingen samordnad plan.
    examples: [SIP blir inte av, ingen samordning mellan psykiatrin och socialtjänsten]
"""


@pytest.fixture(scope="module")
def rethemed_db(demo_db, tmp_path_factory) -> Path:
    return copy_db(demo_db, tmp_path_factory.mktemp("stages") / "demo.db")


def themes_of(store: Store) -> dict[int, tuple[str, ...]]:
    return {p.id: p.themes for p in store.passages() if p.themes}


def test_an_unchanged_build_redoes_no_analysis(rethemed_db, demo_corpus):
    with Store(rethemed_db) as store:
        summary = build(store, [demo_corpus])
    assert {f.status for f in summary.files} == {"unchanged"}
    assert summary.stages == ["inläsning"]


def test_a_changed_theme_weight_rethemes_the_store(rethemed_db, demo_corpus):
    with Store(rethemed_db) as store:
        before, signature = themes_of(store), store.stage_signature("teman")
        summary = build(store, [demo_corpus], options=BuildOptions(theme_params={"labelled_weight": 0.0}))
        assert "teman" in summary.stages and store.stage_signature("teman") != signature
        after = themes_of(store)
        assert set(after) == set(before) and after != before  # every passage re-themed; without labels some differ
        back = build(store, [demo_corpus])
        assert "teman" in back.stages and store.stage_signature("teman") == signature
        assert themes_of(store) == before


@pytest.fixture(scope="module")
def custom_codebook_build(demo_db, demo_corpus, tmp_path_factory):
    """A copy of the demo store rebuilt with a three-theme codebook of the user's own."""
    folder = tmp_path_factory.mktemp("codebook")
    codebook = folder / "kodbok.yaml"
    codebook.write_text(CUSTOM_CODEBOOK, encoding="utf-8")
    db = copy_db(demo_db, folder / "demo.db")
    with Store(db) as store:
        summary = build(store, [demo_corpus], options=BuildOptions(codebook=codebook))
    return db, summary


def test_a_custom_codebook_rethemes_and_is_stored(custom_codebook_build):
    db, summary = custom_codebook_build
    assert "teman" in summary.stages and "kluster" in summary.stages
    with Store(db, readonly=True) as store:
        used = {t for themes in themes_of(store).values() for t in themes}
        assert used and used <= {"nas", "pengar", "samarbete"}
        assert [t["name"] for t in store.codebook()] == [
            "Kontakt och nåbarhet", "Pengar och försörjning", "Samarbete mellan huvudmän"
        ]
        assert build_codebook(store).slugs == ["nas", "pengar", "samarbete"]  # eval and exports use it too
        assert Codebook.load().slugs != build_codebook(store).slugs


def test_the_explorer_names_themes_by_the_stored_codebook(custom_codebook_build, monkeypatch):
    """After `build --codebook MINE` the explorer shows MINE's names, not the default codebook's."""
    db, _ = custom_codebook_build
    monkeypatch.setenv("SYSTEMFEL_DB", str(db))
    monkeypatch.setattr(sys, "argv", ["app.py"])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    sizes = next(f.value for f in at.dataframe if "Brister (huvudtema)" in f.value.columns and "Tema" in f.value.columns)
    assert set(sizes["Tema"]) <= {"Kontakt och nåbarhet", "Pengar och försörjning", "Samarbete mellan huvudmän"}
    assert len(sizes) >= 2


def test_every_page_module_renders_with_one_signature():
    pages = discover_pages()
    assert {"oversikt", "teman", "sok", "trender", "dokument"} <= set(pages) and next(iter(pages)) == "oversikt"
    for slug, module in pages.items():
        assert module.TITLE and module.SLUG == slug
        assert list(inspect.signature(module.render).parameters) == ["ctx"]
