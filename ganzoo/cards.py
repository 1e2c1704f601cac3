"""Model cards: README.md for a published generator, rendered from ganzoo's template.

The YAML header is built with huggingface_hub's ``ModelCardData`` (library_name ``ganzoo``, tags
for the architecture and loss, datasets, the licence (see :func:`card_license`), a pipeline tag,
and every recorded figure as a ``model-index`` result, a spread such as kid_std riding with its
mean), the body from ``ganzoo/templates/modelcard.md`` (Jinja2). The facts come from the run's
config.json, summary.json and eval.json, or from an export's config.json, which carries all three,
so a card can be rendered again from exactly what was published.
"""
from __future__ import annotations

from dataclasses import dataclass
import re
from importlib import resources
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from . import __version__, registry
from .errors import ConfigError, GanzooError
from .layout import FIGURES, SAMPLES, default_model_id, folder_info
from .metric_catalog import BY_KEY, display_name
from .records import Resolved, RunSummary

TEMPLATE = "templates/modelcard.md"
LICENSE = "apache-2.0"

# Protocol fields in the order a reader needs them; the rest follow alphabetically.
PROTOCOL_ORDER = (
    ("feature_network", "feature network"),
    ("feature_precision", "feature network precision"),
    ("generator_precision", "generator precision"),
    ("weights_sha256", "feature network weights sha256"),
    ("n_real", "real images"),
    ("n_generated", "generated images"),
    ("real_dataset", "real dataset"),
    ("real_split", "real split"),
    ("resize", "resize"),
    ("quantization", "quantization"),
    ("color", "colour handling"),
    ("input_scaling", "input scaling"),
    ("seed", "seed"),
    # Parzen window (Goodfellow et al. 2014)
    ("n_test", "test images scored"),
    ("n_validation", "validation images (bandwidth choice)"),
    ("validation_split", "validation images from"),
    ("sigma_grid", "bandwidths tried"),
    ("sigma", "bandwidth chosen"),
    ("scale", "pixel scale"),
    ("stderr", "standard error of the mean"),
    ("preprocessing_version", "preprocessing version"),
    ("ganzoo_version", "ganzoo version"),
)


# -- gathering the facts ---------------------------------------------------------------------------
def card_info(folder: str | Path) -> dict[str, Any]:
    """The run config with ``summary`` and ``evaluation`` sections, from a run or an export folder
    (a zoo model name or Hub repo id is first turned into a folder with ``ganzoo.hub.locate``)."""
    return folder_info(Path(folder))


def _plugin(kind: str, section: dict[str, Any] | None) -> dict[str, str]:
    """Name, summary line, paper and provider of a plugin; what is not installed is said so."""
    section = section or {}
    name = str(section.get("name", "?"))
    dist, version = section.get("distribution") or "?", section.get("version") or "?"
    out = {"name": name, "summary": "", "paper": "", "provider": f"{dist} {version}", "args": _args(section.get("args"))}
    reg = registry.REGISTRIES.get(kind)
    if reg is None or name not in reg:
        out["summary"] = f"(not installed here: pip install '{dist}=={version}')"
        return out
    try:
        obj = reg.get(name)
        out["summary"] = reg.entry(name).summary
        out["paper"] = str(getattr(obj, "paper", "") or "")
    except GanzooError as exc:
        out["summary"] = f"({exc})"
    return out


def _args(args: Any) -> str:
    if not isinstance(args, dict) or not args:
        return "defaults"
    return ", ".join(f"{k}={_fmt(v)}" for k, v in args.items())


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return str(value)


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "not recorded"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else (f"{m}m {s:02d}s" if m else f"{s}s")


def _dataset_plugin(section: dict[str, Any] | None) -> Any:
    """The dataset plugin class a config names, or None when it is not installed here (or fails to import)."""
    name = str((section or {}).get("name", "?"))
    if name not in registry.datasets:
        return None
    try:
        return registry.datasets.get(name)
    except GanzooError:  # installed but failing to import: the card still renders
        return None


def _dataset(section: dict[str, Any] | None) -> tuple[str, str, str | None]:
    """(ganzoo name, display name, Hub dataset id or None), as the dataset plugin declares them;
    a plugin that is not installed here is shown by its name."""
    name = str((section or {}).get("name", "?"))
    cls = _dataset_plugin(section)
    if cls is None:
        return name, name, None
    return name, cls.pretty_name or name, cls.hub_dataset


@dataclass(frozen=True)
class CardLicense:
    """The licence a card declares: a Hub licence id, and for "other" its name and link."""

    id: str
    name: str | None
    link: str | None
    source: str  # where it comes from, for the card text


def check_license_id(license: str) -> str:
    """A Hub licence id as the card's YAML header takes it (``mit``, ``apache-2.0``, ``other``, ...)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9.+-]{0,63}", license):
        raise ConfigError(f"--license {license!r} is not a Hub licence id; use e.g. mit, apache-2.0, cc-by-nc-4.0 or other")
    return license


def card_license(info: dict[str, Any], license: str | None = None) -> CardLicense:
    """``license`` if given, else the one recorded in the export (``weights.license``), else the
    dataset plugin's ``license`` (the weights derive from its data: CelebA's are non-commercial),
    else ganzoo's default, apache-2.0."""
    data_name = str((info.get("dataset") or {}).get("name", "?"))
    cls = _dataset_plugin(info.get("dataset"))
    recorded = (info.get("weights") or {}).get("license")
    declared = cls.license if cls is not None else None
    if license or recorded:
        chosen, source = str(license or recorded), "chosen by the publisher"
    elif declared:
        chosen, source = declared, f"the licence the {data_name} dataset plugin declares for models trained on its data"
    else:
        chosen, source = LICENSE, f"ganzoo's default: the {data_name} dataset plugin declares none (set one with --license)"
    if chosen != "other":
        return CardLicense(chosen, None, None, source)
    # The Hub asks a licence "other" for a name and a link; the dataset plugin may declare the link.
    link = cls.license_link if cls is not None and declared == "other" else None
    return CardLicense(chosen, f"{data_name}-terms", link, source)


def _is_image(info: dict[str, Any]) -> bool:
    return len(info.get("data_shape") or []) == 3


def task_type(info: dict[str, Any]) -> str:
    return "conditional-image-generation" if info.get("num_classes") else "unconditional-image-generation"


def _rounded(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def _metric_value(result: dict[str, Any]) -> Any:
    return _rounded(result.get("value"))


def _protocol_rows(protocol: dict[str, Any]) -> list[tuple[str, str]]:
    rows, seen = [], set()
    for key, label in PROTOCOL_ORDER:
        if protocol.get(key) not in (None, "", {}):
            rows.append((label, _fmt(protocol[key])))
        seen.add(key)
    for key in sorted(protocol):
        if key in seen or protocol[key] in (None, "", {}):
            continue
        value = protocol[key]
        if isinstance(value, dict):  # metric settings (KID subsets, PRDC k, ...): one row each
            rows.extend((str(k).replace("_", " "), _fmt(v)) for k, v in value.items())
        else:
            rows.append((key.replace("_", " "), _fmt(value)))
    return rows


def _metric_args(protocol: dict[str, Any]) -> dict[str, Any] | None:
    """The protocol's scalar fields, machine-readable next to the figure in model-index."""
    keys = ("feature_network", "weights_sha256", "feature_precision", "n_real", "n_generated", "real_split", "resize", "quantization", "seed")
    args = {k: protocol[k] for k in keys if isinstance(protocol.get(k), (str, int, float, bool))}
    return args or None


# -- the card ----------------------------------------------------------------------------------------
FIGURE_FILE = re.compile(rf"{FIGURES}/[a-z0-9][a-z0-9-]{{0,63}}\.png")
# Figures every image card reports, with the command that records a missing one.
EXPECTED = (("fid", "fid"), ("parzen_log_likelihood", "parzen"))


def _pictures(info: dict[str, Any]) -> list[dict[str, str]]:
    """The export's pictures (config.json ``figures``, written by ganzoo/card_figures.py); an entry
    that is not a plain PNG under figures/ with a one-line title and caption is left out."""
    entries = info.get("figures")
    out = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not FIGURE_FILE.fullmatch(str(entry.get("file"))):
            continue
        title, caption = entry.get("title"), entry.get("caption")
        if isinstance(title, str) and isinstance(caption, str) and "\n" not in title + caption and len(title + caption) < 2000:
            out.append({"file": entry["file"], "title": title, "caption": caption})
    return out


def _not_recorded(info: dict[str, Any]) -> list[str]:
    """What an image card is expected to report but does not yet, each with the command that adds it."""
    if not _is_image(info):
        return []
    recorded = {str(r.get("metric")) for r in info.get("evaluation") or [] if isinstance(r, dict) and "value" in r}
    return [f"{display_name(key)}: not measured yet (`ganzoo eval RUN_DIR --metrics {family} --save` on the training run, "
            "then `ganzoo export` again, adds it)" for key, family in EXPECTED if key not in recorded]


def _spread_of(result: dict[str, Any]) -> str | None:
    """The mean a spread figure (kid_std, is_std) belongs to; None for any other figure."""
    meta = BY_KEY.get(str(result.get("metric")))
    return meta.std_of if meta is not None else None


def _figures(info: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """(result, its spread or None) for each recorded figure, in eval.json order. A spread rides
    with its mean (same dataset and split): it is not a figure of its own. A spread whose mean was
    not recorded is listed alone, with no spread."""
    results = [r for r in info.get("evaluation") or [] if isinstance(r, dict)]

    def key(metric: Any, r: dict[str, Any]) -> tuple[str, Any, Any]:
        return str(metric), r.get("dataset"), r.get("split")

    means = {key(r.get("metric"), r) for r in results}
    spreads = {key(_spread_of(r), r): r.get("value") for r in results if _spread_of(r)}

    def folded(r: dict[str, Any]) -> bool:
        mean = _spread_of(r)
        return mean is not None and key(mean, r) in means

    return [(r, spreads.get(key(r.get("metric"), r))) for r in results if not folded(r)]


def _eval_result(result: dict[str, Any], spread: Any, info: dict[str, Any]) -> Any:
    """One model-index entry; the spread goes into the metric's args (``std``)."""
    data_name, pretty, hub_id = _dataset(info.get("dataset"))
    task = task_type(info)
    metric = str(result.get("metric", "?"))
    protocol = result.get("protocol") or {}
    args = {**(_metric_args(protocol) or {}), **({"std": _rounded(spread)} if spread is not None else {})}
    return EvalResult(
        task_type=task,
        task_name=task.replace("-", " ").capitalize(),
        dataset_type=hub_id or str(result.get("dataset") or data_name),
        dataset_name=pretty if (result.get("dataset") in (None, data_name)) else str(result["dataset"]),
        dataset_split=result.get("split") or protocol.get("real_split"),
        metric_type=metric,
        metric_name=display_name(metric),
        metric_value=_metric_value(result),
        metric_args=args or None,
    )


def card_data(info: dict[str, Any], model_id: str, license: str | None = None) -> Any:
    """The YAML header: ``ModelCardData`` with the metrics as ``model-index`` results (a spread
    such as kid_std is an arg of its mean, not a result); the licence as :func:`card_license` picks it."""
    arch = (info.get("architecture") or {}).get("name", "?")
    loss = (info.get("loss") or {}).get("name", "?")
    tricks = [t.get("name", "?") for t in info.get("tricks") or []]
    data_name, _, hub_id = _dataset(info.get("dataset"))
    chosen = card_license(info, license)
    results = [_eval_result(r, spread, info) for r, spread in _figures(info) if not _spread_of(r)]
    tags = ["gan", "ganzoo", arch, loss, *tricks, task_type(info) if _is_image(info) else "toy-data", data_name]
    return ModelCardData(
        library_name="ganzoo",
        license=chosen.id,
        license_name=chosen.name,
        license_link=chosen.link,
        tags=tags,
        datasets=[hub_id] if hub_id else None,
        # The Hub has no class-conditional task; a conditional generator samples without labels too
        # (random classes), so both kinds are "unconditional-image-generation" there.
        pipeline_tag="unconditional-image-generation" if _is_image(info) else None,
        model_name=model_id if results else None,  # model-index needs it; without results it is noise
        eval_results=results or None,
    )


def _context(info: dict[str, Any], model_id: str, has_samples: bool, license: str | None = None) -> dict[str, Any]:
    """Everything the template prints, already formatted."""
    arch = _plugin("architectures", info.get("architecture"))
    loss = _plugin("losses", info.get("loss"))
    tricks = [_plugin("tricks", t) for t in info.get("tricks") or []]
    data_name, pretty, hub_id = _dataset(info.get("dataset"))
    data_plugin = _plugin("datasets", info.get("dataset"))
    shape = info.get("data_shape") or []
    num_classes = int(info.get("num_classes") or 0)
    conditional = f"class-conditional ({num_classes} classes)" if num_classes else "unconditional"
    if len(shape) == 3:
        resolution = f"{shape[1]}x{shape[2]} px, {shape[0]} channel{'s' if shape[0] != 1 else ''}"
        output = f"{shape[1]}x{shape[2]} images"
    else:
        resolution = output = f"{'x'.join(map(str, shape))}-D points"

    def known(*values: Any) -> Any:  # the first recorded value; "?" when an old file lacks it
        return next((v for v in values if v is not None), "?")

    training = info.get("training") or {}
    resolved = Resolved.from_json(info.get("resolved"))
    summary = RunSummary.from_json(info.get("summary"))
    weights = info.get("weights") or {}
    steps = known(summary.step, training.get("steps"))
    which = weights.get("which", "ema" if training.get("ema") else "raw")
    ema = training.get("ema")
    ema_text = f"decay {ema:g}, from step {training.get('ema_start', 0)}" if ema else "off"
    world = summary.world_size
    g_steps = training.get("g_steps", 1)
    decay_until = training.get("lr_decay_until")
    decay = f", falling in a line to 0 at step {_fmt(decay_until)}" if decay_until else ""
    hardware = (summary.hardware or "not recorded") + (f" x {world} processes" if world and world > 1 else "")

    training_rows = [
        ("steps (generator updates)" if g_steps == 1 else f"steps ({g_steps} generator updates each)", _fmt(steps)),
        ("batch size", _fmt(training.get("batch_size", "?"))),
        ("images seen", f"{summary.images_seen:,}" if summary.images_seen is not None else "not recorded"),
        ("optimizer", _fmt(known(resolved.optimizer, training.get("optimizer")))),
        ("learning rates", f"G {_fmt(known(resolved.lr_g))}, D {_fmt(known(resolved.lr_d))}" + decay),
        ("betas", _fmt(known(resolved.betas))),
        ("D steps per G step (n_critic)", _fmt(known(resolved.n_critic))),
        ("EMA of generator weights", ema_text),
        ("precision", _precision_text(resolved, known(summary.precision, resolved.precision, training.get("precision")))),
        ("hardware", hardware),
        ("wall time", _duration(summary.wall_time_s)),
        ("seed", _fmt(training.get("seed", "?"))),
        ("torch / ganzoo", f"{known(summary.torch_version)} / {known(summary.ganzoo_version, info.get('ganzoo_version'))}"),
    ]
    results = []
    for r, spread in _figures(info):
        metric = str(r.get("metric", "?"))
        protocol = r.get("protocol") or {}
        stderr = protocol.get("stderr") if spread is None else None
        about = BY_KEY[metric].about if metric in BY_KEY else ""
        results.append({
            "metric": display_name(metric),
            "about": about,
            "value": _fmt(_metric_value(r)) + (f" ± {_fmt(_rounded(spread))}" if spread is not None else "")
            + (f" ± {_fmt(_rounded(stderr))} (standard error)" if isinstance(stderr, float) else ""),
            "dataset": str(r.get("dataset") or data_name),
            "split": str(r.get("split") or protocol.get("real_split") or "?"),
            "protocol": _protocol_rows(protocol),
        })
    papers = [p["paper"] for p in (arch, loss, *tricks, data_plugin) if p["paper"]]
    extra_packages = sorted({
        f"{s.get('distribution')}=={s.get('version')}"
        for s in [info.get("architecture") or {}, info.get("loss") or {}, *(info.get("tricks") or [])]
        if s.get("distribution") not in (None, "ganzoo", "<local>")
    })
    disc = weights.get("discriminator")
    weights_rows = [
        ("generator", f"`{weights.get('file', 'model.safetensors')}`: the {'EMA-averaged' if which == 'ema' else 'raw'} generator"
         + (f" at step {weights['step']}" if weights.get("step") is not None else "")),
        ("sha256", f"`{weights['sha256']}`" if weights.get("sha256") else "recorded in config.json at export"),
        ("discriminator", f"`{disc['file']}`: {disc.get('contents', 'raw model state')}" if disc else "not published (export with --include-discriminator for fine-tuning)"),
        ("format", "safetensors only; ganzoo refuses pickles"),
    ]
    kind = "An image generator" if _is_image(info) else f"A generator of {output}"
    summary_line = (
        f"{kind} with the {arch['name']} architecture and the {loss['name']} loss"
        + (f" (tricks: {', '.join(t['name'] for t in tricks)})" if tricks else "")
        + f", trained on {pretty} ({resolution}, {conditional}) for {_fmt(steps)} step{'' if steps == 1 else 's'}"
        + (f" in {_duration(summary.wall_time_s)} on {summary.hardware}" if summary.hardware else "")
        + ", with ganzoo."
    )
    return {
        "model_id": model_id,
        "summary": summary_line,
        "has_samples": has_samples,
        "architecture": arch,
        "loss": loss,
        "tricks": tricks,
        "dataset": {"name": data_name, "pretty": pretty, "hub_id": hub_id, "args": data_plugin["args"]},
        "resolution": resolution,
        "output": output,
        "conditional": conditional,
        "num_classes": num_classes,
        # Exports record what sample_latent draws; older ones only its size.
        "latent": str(info.get("latent") or f"{info.get('latent_dim', '?')}-d"),
        "is_image": _is_image(info),
        "weights_rows": weights_rows,
        "training_rows": training_rows,
        "results": results,
        "not_recorded": _not_recorded(info),
        "figures": _pictures(info),
        "papers": papers,
        "extra_packages": extra_packages,
        "ganzoo_version": __version__,
        "card_license": card_license(info, license),
        "notes": info["notes"].strip() if isinstance(info.get("notes"), str) else "",
    }


def _precision_text(resolved: Resolved, precision: Any) -> str:
    """e.g. "bf16 + channels_last (auto: this CPU has AMX-BF16)": why, when ganzoo chose it."""
    text = _fmt(precision) + (" + channels_last" if resolved.channels_last else "")
    reason = resolved.precision_reason or ""
    return f"{text} ({reason})" if reason.startswith("auto") else text


def _template() -> str:
    return resources.files("ganzoo").joinpath(TEMPLATE).read_text(encoding="utf-8")


def render_card_from(info: dict[str, Any], model_id: str, *, has_samples: bool = True, license: str | None = None) -> str:
    """The card text for a config dict as :func:`card_info` returns it; ``license`` (a Hub licence
    id) overrides the recorded or declared one (see :func:`card_license`)."""
    try:
        card = ModelCard.from_template(card_data(info, model_id, license), template_str=_template(), **_context(info, model_id, has_samples, license))
    except ImportError as exc:  # jinja2 is ganzoo's dependency, not huggingface_hub's
        raise GanzooError(f"rendering model cards needs jinja2 ({exc}); pip install jinja2") from exc
    text = str(card)
    return text if text.endswith("\n") else text + "\n"


def render_card(folder: str | Path, model_id: str | None = None, *, has_samples: bool | None = None, license: str | None = None) -> str:
    """The model card (README.md text) for a training run or an exported model folder.
    ``has_samples`` defaults to what the folder shows: a run's card is published with a fresh
    grid; an export shows its grid if it has one."""
    folder = Path(folder)
    info = card_info(folder)
    model_id = model_id or (info.get("weights") or {}).get("model_id") or default_model_id(info)
    if has_samples is None:
        has_samples = (folder / SAMPLES).is_file() or not info.get("weights")
    return render_card_from(info, model_id, has_samples=has_samples, license=license)


def summarize(folder: str | Path) -> str:
    """A few plain lines about a run or an exported model folder: what it is, how it was trained,
    and its metrics."""
    info = card_info(folder)
    weights = info.get("weights") or {}
    ctx = _context(info, weights.get("model_id") or default_model_id(info), True)
    rows = dict(ctx["training_rows"])
    lines = [
        f"{ctx['model_id']}: {ctx['summary']}",
        f"  weights: {dict(ctx['weights_rows'])['generator'].replace('`', '')}",
        f"  training: {rows['steps (generator updates)']} steps x batch {rows['batch size']}, {rows['optimizer']} "
        f"({rows['learning rates']}), EMA {rows['EMA of generator weights']}, {rows['precision']}, "
        f"{rows['wall time']} on {rows['hardware']}",
    ]
    for r in ctx["results"]:
        protocol = dict(r["protocol"])
        detail = ", ".join(f"{k} {protocol[k]}" for k in ("real images", "generated images") if k in protocol)
        lines.append(f"  {r['metric']}: {r['value']} ({r['dataset']} {r['split']}{'; ' + detail if detail else ''})")
    if not ctx["results"]:
        lines.append("  metrics: none recorded yet")
    return "\n".join(lines)
