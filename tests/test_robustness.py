"""A generated corpus of bad inputs, run through the CLI (in-process) and the Python API (issue 11).

For every case: a non-zero exit (or a GanzooError from the API), no traceback, exactly one line on
stderr, no "internal error", no terminal control characters, and the sha256 of every file saved
before (a small trained run and its export, made once for the module) unchanged.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest
import torch

import ganzoo
from ganzoo.errors import GanzooError
from ganzoo.export import export_run
from hub_double import tiny_run
from conftest import run_cli
from test_weights_safety import CASES as DAMAGED_FILES

Ctx = SimpleNamespace  # run, export (the saved fixture), tmp (this case's folder), monkeypatch


@dataclass(frozen=True)
class Case:
    name: str
    cli: Callable[[Ctx], list[str]] | None = None  # argv of `ganzoo ...`
    api: Callable[[Ctx], Any] | None = None  # a call that must raise a GanzooError


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """A two-step run, its export, and the sha256 of every file under both."""
    root = tmp_path_factory.mktemp("saved")
    run = tiny_run(root / "run")
    export = export_run(run, root / "export", include_discriminator=True, model_id="org/tiny")
    return run, export, _hashes(root)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


# --- the corpus -----------------------------------------------------------------------------------------------
FAKE_ARGS = ["--data-arg", "n=64", "--data-arg", "image_size=28"]
TINY = ["--arch-arg", "g_width=8", "--arch-arg", "d_width=8", "--arch-arg", "latent_dim=16"]


def train(*extra: str, arch: str = "dcgan", dataset: str = "fake", data: list[str] | None = None, base: list[str] | None = None,
          out: Callable[[Ctx], Path] | None = None) -> Callable[[Ctx], list[str]]:
    """``ganzoo train`` argv: a tiny DCGAN on fake data (as the saved run was trained) plus ``extra``."""
    def argv(ctx: Ctx) -> list[str]:
        folder = out(ctx) if out else ctx.tmp / "new-run"
        data_args = FAKE_ARGS if data is None else data
        model_args = TINY if base is None else base
        return ["train", "--arch", arch, *model_args, "--loss", "non-saturating", "--dataset", dataset, *data_args,
                "--batch-size", "8", "--steps", "2", "--precision", "fp32", "--device", "cpu", "--quiet",
                "--sample-every", "100", "--checkpoint-every", "100", "--out", str(folder), *[e(ctx) if callable(e) else e for e in extra]]
    return argv


ENGINE_VALUES = [
    ("--steps", "0"), ("--steps", "-1"), ("--steps", "abc"), ("--steps", "1.5"), ("--steps", ""),
    ("--batch-size", "0"), ("--batch-size", "-8"), ("--batch-size", "x"), ("--batch-size", str(10**9)),
    ("--lr-g", "nan"), ("--lr-g", "inf"), ("--lr-g", "-inf"), ("--lr-g", "-1"), ("--lr-g", "0"), ("--lr-g", "abc"),
    ("--lr-d", "nan"), ("--lr-d", "inf"), ("--lr-d", "0"),
    ("--betas", "0.5"), ("--betas", "0.5,1.5"), ("--betas", "a,b"), ("--betas", "nan,0.9"), ("--betas", "0.5,0.9,0.1"),
    ("--n-critic", "0"), ("--n-critic", "-1"), ("--n-critic", "x"),
    ("--ema", "2"), ("--ema", "-0.5"), ("--ema", "nan"), ("--ema", "fast"), ("--ema", "1"),
    ("--ema-start", "-5"), ("--ema-start", "x"), ("--seed", str(10**30)), ("--seed", "-1"), ("--seed", "x"),
    ("--precision", "fp8"), ("--optimizer", "adamw"), ("--device", "meta"), ("--device", "tpu"), ("--device", "cuda:99"),
    ("--sample-every", "0"), ("--checkpoint-every", "0"), ("--keep-checkpoints", "-1"), ("--log-every", "0"),
    ("--num-workers", "-1"), ("--time-budget", "0"), ("--time-budget", "-5"), ("--time-budget", "nan"), ("--time-budget", "inf"),
]
PLUGIN_VALUES = [
    ("--arch-arg", "g_width=abc"), ("--arch-arg", "g_width=-1"), ("--arch-arg", "nope=1"), ("--arch-arg", "image_size=30"),
    ("--arch-arg", "latent_dim=-3"), ("--arch-arg", "novalue"), ("--arch-arg", "=3"), ("--loss-arg", "nope=1"),
    ("--data-arg", "n=0"), ("--data-arg", "n=-5"), ("--data-arg", "image_size=0"), ("--data-arg", "n=abc"),
    ("--trick", "no-such-trick"), ("--trick", "r1:gamma=abc"), ("--trick", ":x"), ("--trick", "r1:nope=1"),
    ("--data-dir", "/nonexistent/dir"),
]


def _png(width: int, height: int) -> bytes:
    """A PNG header declaring ``width`` x ``height`` pixels (no pixel data: a decompression bomb's shape)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + chunk(b"IEND", b"")


def image_folder(files: dict[str, bytes | str]) -> Callable[[Ctx], str]:
    """A --data-dir holding ``files`` (bytes, or a symlink target as str)."""
    def make(ctx: Ctx) -> str:
        folder = ctx.tmp / "images"
        folder.mkdir(exist_ok=True)
        for name, content in files.items():
            if isinstance(content, str):
                os.symlink(content, folder / name)
            else:
                (folder / name).write_bytes(content)
        return str(folder)
    return make


def _real_png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.new("L", (8, 8), 128).save(buf, format="PNG")
    return buf.getvalue()


def image_cases() -> list[Case]:
    few = {f"{i}.png": _real_png() for i in range(3)}
    images = ["--data-arg", "image_size=16", "--data-arg", "channels=1"]

    def imagefolder(name: str, files: dict[str, bytes | str], *extra: str) -> Case:
        return Case(name, train("--data-dir", image_folder(files), *extra, dataset="imagefolder", data=images))

    return [
        imagefolder("imagefolder with fewer images than the batch", few),
        imagefolder("imagefolder without images", {"readme.txt": b"no images here"}),
        imagefolder("imagefolder with a decompression bomb", {"bomb.png": _png(60000, 60000)}, "--batch-size", "1"),
        imagefolder("imagefolder with a corrupt png", {"bad.png": b"\x89PNG garbage"}, "--batch-size", "1"),
        imagefolder("imagefolder with only a link to /dev/zero", {"zero.png": "/dev/zero"}),
        Case("mlp with g_hidden=[-5]", train("--arch-arg", "g_hidden=[-5]", arch="mlp", dataset="toy-ring", data=[], base=[])),
        Case("an unknown architecture", train(arch="no-such-arch", base=[])),
        Case("an unknown dataset", train(dataset="no-such-data", data=[])),
        Case("an image architecture on points", train(dataset="toy-ring", data=[])),
    ]


def _foreign(ctx: Ctx) -> Path:
    (ctx.tmp / "mine").mkdir()
    (ctx.tmp / "mine" / "thesis.tex").write_text("precious")
    return ctx.tmp / "mine"


def _a_file(ctx: Ctx) -> Path:
    (ctx.tmp / "file").write_text("x")
    return ctx.tmp / "file"


def _read_only(ctx: Ctx) -> Path:
    import ganzoo.layout

    ctx.monkeypatch.setattr(ganzoo.layout.os, "access", lambda path, mode: False)
    return ctx.tmp / "ro" / "run"


def _disk_full(ctx: Ctx) -> Path:
    from ganzoo.engine import checkpoint

    real = checkpoint.write_safetensors

    def full(path: Any, tensors: Any, metadata: Any = None) -> None:
        if Path(path).name == "trainer.safetensors":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, tensors, metadata)

    ctx.monkeypatch.setattr(checkpoint, "write_safetensors", full)
    return Path(shutil.copytree(ctx.run, ctx.tmp / "run-copy"))


def out_cases() -> list[Case]:
    run, export = (lambda ctx: ctx.run), (lambda ctx: ctx.export)
    fixture_data = ["--data-arg", "n=64"]
    return [
        Case("--out holding an export", train(out=export)),
        Case("--resume into an export", train("--resume", out=export)),
        Case("--out holding other files", train(out=_foreign)),
        Case("--out that is a file", train(out=_a_file)),
        Case("a read-only --out", train(out=_read_only)),
        Case("a new run into an existing run", train(out=run, data=fixture_data)),
        Case("--resume to fewer steps", train("--resume", "--steps", "1", out=run, data=fixture_data)),
        Case("--resume with another batch size", train("--resume", "--batch-size", "16", out=run, data=fixture_data)),
        Case("--resume with another seed", train("--resume", "--seed", "3", "--steps", "5", out=run, data=fixture_data)),
        Case("--resume of nothing", train("--resume")),
        Case("--resume-from a missing checkpoint", train("--resume-from", "step-00000099", "--steps", "5", out=run, data=fixture_data)),
        Case("--resume-from outside the run", train("--resume-from", "../../../etc", "--steps", "5", out=run, data=fixture_data)),
        Case("the disk filling during a checkpoint", train("--resume", "--steps", "3", "--checkpoint-every", "1", out=_disk_full, data=fixture_data)),
    ]


def _copy_export(ctx: Ctx) -> Path:
    return Path(shutil.copytree(ctx.export, ctx.tmp / "model"))


def _copy_run(ctx: Ctx) -> Path:
    return Path(shutil.copytree(ctx.run, ctx.tmp / "runs" / "mine"))


def _edit(change: Callable[[dict], Any]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        config = json.loads((folder / "config.json").read_text())
        change(config)
        (folder / "config.json").write_text(json.dumps(config))
    return damage


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink() or (folder / name).write_bytes(data)


def _link(name: str, target: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink() or os.symlink(target, folder / name)


def _loop(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink() or os.symlink(name, folder / name)


def _huge_header(folder: Path) -> None:
    header = json.dumps({"net.0.weight": {"dtype": "F32", "shape": [10**9, 1000], "data_offsets": [0, 4 * 10**12]}}).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 64)


FORGED = "dcgan\n\x1b[31merror: all is well\x1b[0m"
EXPORT_DAMAGE: dict[str, Callable[[Path], None]] = {
    **{name: damage for name, (damage, _) in DAMAGED_FILES.items()},
    "architecture is a string": _edit(lambda c: c.update(architecture="dcgan")),
    "tricks is a string": _edit(lambda c: c.update(tricks="spectral-norm")),
    "arguments are a list": _edit(lambda c: c["architecture"].update(args=[1, 2])),
    "a forged multi-line name": _edit(lambda c: c["architecture"].update(name=FORGED)),
    "a shell command as distribution": _edit(lambda c: c["architecture"].update(name="gone", distribution="x'; touch /tmp/p; echo '", version="1")),
    "a shell command as version": _edit(lambda c: c["architecture"].update(name="gone", distribution="ganzoo-x", version="1; rm -rf ~")),
    "g_width 1e9": _edit(lambda c: c["architecture"]["args"].update(g_width=1_000_000_000)),
    "g_width 3500": _edit(lambda c: c["architecture"]["args"].update(g_width=3500)),
    "g_width 1e30": _edit(lambda c: c["architecture"]["args"].update(g_width=10**30)),
    "latent_dim -1": _edit(lambda c: c["architecture"]["args"].update(latent_dim=-1)),
    "g_width a dict": _edit(lambda c: c["architecture"]["args"].update(g_width={"a": 1})),
    "no weights section": _edit(lambda c: c.pop("weights")),
    "weights is a string": _edit(lambda c: c.update(weights="model.safetensors")),
    "format_version a string": _edit(lambda c: c["weights"].update(format_version="1")),
    "sha256 a number": _edit(lambda c: c["weights"].update(sha256=5)),
    "weights file absolute": _edit(lambda c: c["weights"].update(file="/etc/passwd")),
    "config.json is a list": _write("config.json", b"[1, 2]"),
    "config.json is empty": _write("config.json", b""),
    "config.json links to /dev/zero": _link("config.json", "/dev/zero"),
    "weights link to /dev/zero": _link("model.safetensors", "/dev/zero"),
    "weights link in a loop": _loop("model.safetensors"),
    "weights are a folder": lambda folder: (folder / "model.safetensors").unlink() or (folder / "model.safetensors").mkdir(),
    "a header claiming 4 TB": _huge_header,
}


def _pointer(text: str, drop_own: bool = True) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        if drop_own:
            shutil.rmtree(run / "checkpoints" / "step-00000002")
        (run / "checkpoints" / "latest").write_text(text)
    return damage


def _trainer_json(change: Callable[[dict], Any]) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = run / "checkpoints" / "step-00000002" / "trainer.json"
        meta = json.loads(path.read_text())
        change(meta)
        path.write_text(json.dumps(meta))
    return damage


RUN_DAMAGE: dict[str, Callable[[Path], None]] = {
    "latest outside the run, no own checkpoint": _pointer("../../other/checkpoints/step-00000002\n"),
    "every checkpoint truncated": lambda run: (run / "checkpoints" / "step-00000002" / "model.safetensors").write_bytes(b"\0" * 10),
    "trainer.json not JSON": lambda run: (run / "checkpoints" / "step-00000002" / "trainer.json").write_text("{"),
    "trainer.json without a step": _trainer_json(lambda m: m.pop("step")),
    "config.json lost and no copy": lambda run: (run / "config.json").unlink() or _trainer_json(lambda m: m.pop("run_config"))(run),
    "run config with a string architecture": _edit(lambda c: c.update(architecture="dcgan")),
}


def load_cases() -> list[Case]:
    cases = []
    for name, damage in EXPORT_DAMAGE.items():
        def prepared(ctx: Ctx, damage: Callable[[Path], None] = damage) -> Path:
            folder = _copy_export(ctx)
            damage(folder)
            return folder
        cases.append(Case(f"sample: {name}", cli=lambda ctx, p=prepared: ["sample", str(p(ctx)), "-n", "2", "--out", str(ctx.tmp / "g.png")]))
        cases.append(Case(f"load: {name}", api=lambda ctx, p=prepared: ganzoo.load(p(ctx), discriminator=True)))
    for name, damage in RUN_DAMAGE.items():
        def prepared_run(ctx: Ctx, damage: Callable[[Path], None] = damage) -> Path:
            folder = _copy_run(ctx)
            damage(folder)
            return folder
        cases.append(Case(f"sample run: {name}", cli=lambda ctx, p=prepared_run: ["sample", str(p(ctx)), "--out", str(ctx.tmp / "g.png")]))
        cases.append(Case(f"export run: {name}", cli=lambda ctx, p=prepared_run: ["export", str(p(ctx)), str(ctx.tmp / "exp")]))
    return cases


def option_cases() -> list[Case]:
    def sample(*extra: str) -> Callable[[Ctx], list[str]]:
        return lambda ctx: ["sample", str(ctx.export), "--out", str(ctx.tmp / "g.png"), *extra]

    def export(*extra: str, run: Callable[[Ctx], Path] = lambda ctx: ctx.run, out: Callable[[Ctx], Path] = lambda ctx: ctx.tmp / "e") -> Callable[[Ctx], list[str]]:
        return lambda ctx: ["export", str(run(ctx)), str(out(ctx)), *extra]

    def bad_eval_run(ctx: Ctx) -> Path:
        run = _copy_run(ctx)
        (run / "eval.json").write_text(json.dumps({"results": 5}))
        return run

    return [
        Case("sample -n 0", sample("-n", "0")), Case("sample -n 10**6", sample("-n", str(10**6))),
        Case("sample --labels x", sample("--labels", "x")), Case("sample --labels for an unconditional model", sample("--labels", "3")),
        Case("sample --labels 10**30", sample("--labels", str(10**30))), Case("sample --seed 10**30", sample("--seed", str(10**30))),
        Case("sample --device meta", sample("--device", "meta")), Case("sample --device tpu", sample("--device", "tpu")),
        Case("sample --out a folder", lambda ctx: ["sample", str(ctx.export), "--out", str(ctx.tmp)]),
        Case("sample a missing folder", lambda ctx: ["sample", str(ctx.tmp / "nope" / "x"), "--out", str(ctx.tmp / "g.png")]),
        Case("export --model-id with spaces", export("--model-id", "bad id/with spaces{{")),
        Case("export --model-id with two slashes", export("--model-id", "a/b/c")),
        Case("export --model-id with --", export("--model-id", "org/x--y")),
        Case("export --model-id over the saved export", export("--model-id", "bad id", out=lambda ctx: ctx.export)),
        Case("export a run into itself", export(out=lambda ctx: ctx.run)),
        Case("export an export", export(run=lambda ctx: ctx.export)),
        Case("export a missing run", export(run=lambda ctx: ctx.tmp / "nope")),
        Case("export into other files", export(out=_foreign)),
        Case("export onto a file", export(out=_a_file)),
        Case("re-export failing over the saved export", export(run=bad_eval_run, out=lambda ctx: ctx.export)),
        Case("eval --seed 10**30", lambda ctx: ["eval", str(ctx.export), "--seed", str(10**30)]),
        Case("eval --n-generated 1", lambda ctx: ["eval", str(ctx.export), "--n-generated", "1"]),
        Case("reference an unknown dataset", lambda ctx: ["reference", "no-such-data"]),
        Case("reference a 2D toy", lambda ctx: ["reference", "toy-ring"]),
        Case("reference --device tpu", lambda ctx: ["reference", "fashion-mnist", "--device", "tpu"]),
        Case("reference a missing data folder", lambda ctx: ["reference", "fashion-mnist", "--data-arg", f"data_dir={ctx.tmp / 'nope'}"]),
        Case("an unknown command", lambda ctx: ["no-such-command"]),
        Case("train without --arch", lambda ctx: ["train", "--loss", "hinge", "--out", str(ctx.tmp / "r")]),
    ]


def _api_train(**settings: Any) -> Callable[[Ctx], Any]:
    from ganzoo.build import PluginSpec

    arch = PluginSpec("dcgan", {"g_width": 8, "d_width": 8, "latent_dim": 16})
    values = {"steps": 2, "batch_size": 8, "device": "cpu", "precision": "fp32", "progress": False, **settings}
    return lambda ctx: ganzoo.train(arch, "non-saturating", PluginSpec("fake", {"n": 64}), ctx.tmp / "api-run", **values)


def api_cases() -> list[Case]:
    return [
        Case("load dtype int8", api=lambda ctx: ganzoo.load(ctx.export, dtype="int8")),
        Case("load dtype torch.int64", api=lambda ctx: ganzoo.load(ctx.export, dtype=torch.int64)),
        Case("load dtype float7", api=lambda ctx: ganzoo.load(ctx.export, dtype="float7")),
        Case("load device meta", api=lambda ctx: ganzoo.load(ctx.export, device="meta")),
        Case("load a revision of a folder", api=lambda ctx: ganzoo.load(ctx.export, revision="main")),
        Case("load a missing folder", api=lambda ctx: ganzoo.load(ctx.tmp / "nope")),
        Case("load the discriminator of an export without one", api=lambda ctx: ganzoo.load(
            export_run(ctx.run, ctx.tmp / "g-only", model_id="org/g"), discriminator=True)),
        Case("train lr_g nan", api=_api_train(lr_g=float("nan"))),
        Case("train batch_size 10**9", api=_api_train(batch_size=10**9)),
        Case("train seed 10**30", api=_api_train(seed=10**30)),
        Case("train ema_start -5", api=_api_train(ema_start=-5)),
        Case("train device meta", api=_api_train(device="meta")),
        Case("train into the saved export", api=lambda ctx: ganzoo.train("dcgan", "non-saturating", "fake", ctx.export, steps=1, progress=False)),
        Case("export with a bad model id", api=lambda ctx: export_run(ctx.run, ctx.tmp / "e", model_id="bad id/with spaces{{")),
    ]


CASES = [
    *[Case(f"train {opt} {value!r}", train(opt, value)) for opt, value in ENGINE_VALUES],
    *[Case(f"train {opt} {value!r}", train(opt, value)) for opt, value in PLUGIN_VALUES],
    *image_cases(), *out_cases(), *load_cases(), *option_cases(), *api_cases(),
]


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 100 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_and_loses_nothing(case: Case, saved, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    run, export, before = saved
    monkeypatch.delenv("GANZOO_DEBUG", raising=False)
    ctx = Ctx(run=run, export=export, tmp=tmp_path, monkeypatch=monkeypatch)
    if case.cli is not None:
        code, out, err = run_cli(case.cli(ctx), capsys)
        lines = err.strip().splitlines()
        assert code != 0, (out, err)
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert "Traceback" not in out + err and "internal error" not in err and "\x1b" not in err
    else:
        with pytest.raises(GanzooError) as info:
            case.api(ctx)
        message = str(info.value)
        assert "\n" not in message and "\x1b" not in message and "internal error" not in message, message
    monkeypatch.undo()
    assert _hashes(run.parent) == before, "a file saved before was changed"
