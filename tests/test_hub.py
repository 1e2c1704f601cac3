"""Export, load and publish: a local folder, a seeded HF cache, the loopback Hub double, torch.hub."""
from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard
from safetensors import safe_open

import ganzoo
from ganzoo import registry
from ganzoo.api import load
from ganzoo.cards import render_card, summarize
from ganzoo.errors import CheckpointError, ConfigError, GanzooError, UnknownPluginError
from ganzoo.export import export_run
from ganzoo.hub import HubError, HubUnreachableError, ModelNotFoundError, locate, push, zoo_models
from ganzoo.loading import load_run, rebuild_model
from ganzoo.pretrained import PretrainedGenerator
from ganzoo.safeio import sha256_file
from hub_double import HubDouble, backoff_waits, hub, offline_cache, seed_hf_cache, tiny_run, unreachable_hub  # noqa: F401
from conftest import run_cli

REPO_ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = {"config.json", "model.safetensors", "README.md", "samples.png"}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_run(tmp_path_factory.mktemp("hub") / "run")


@pytest.fixture(scope="module")
def export(run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_run(run, tmp_path_factory.mktemp("hub-export") / "tiny", model_id="org/tiny")


@pytest.fixture
def zoo(export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model_cards folder holding a fake dcgan-fashion-mnist (the tiny run), via GANZOO_MODEL_CARDS."""
    cards = tmp_path / "model_cards"
    shutil.copytree(export, cards / "dcgan-fashion-mnist")
    monkeypatch.setenv("GANZOO_MODEL_CARDS", str(cards))
    return cards / "dcgan-fashion-mnist"


def ema_samples(run: Path, n: int = 6, seed: int = 3) -> torch.Tensor:
    return load_run(run).sample(n, seed=seed)


# -- export and local load ---------------------------------------------------------------------------------
def test_export_writes_the_published_folder(run: Path, export: Path) -> None:
    assert {p.name for p in export.iterdir()} == PUBLISHED
    config = json.loads((export / "config.json").read_text())
    weights = config["weights"]
    assert weights["file"] == "model.safetensors" and weights["which"] == "ema" and weights["format_version"] == 1
    assert weights["model_id"] == "org/tiny" and weights["step"] == 2 and weights["discriminator"] is None
    assert weights["sha256"] == sha256_file(export / "model.safetensors")
    assert config["architecture"]["distribution"] == "ganzoo" and config["summary"]["step"] == 2
    generator_keys = set(rebuild_model(config).generator.state_dict())
    with safe_open(str(export / "model.safetensors"), "pt") as fh:
        assert set(fh.keys()) == generator_keys
        assert fh.metadata()["format"] == "pt" and fh.metadata()["ganzoo"] == ganzoo.__version__
    from PIL import Image

    assert Image.open(export / "samples.png").size == (8 * 30 + 2, 8 * 30 + 2)  # 8x8 tiles of 28 px, 2 px apart


def test_local_round_trip_gives_the_runs_ema_samples(run: Path, export: Path) -> None:
    G = load(export)
    assert not G.generator.training and not any(p.requires_grad for p in G.generator.parameters())
    assert G.latent_dim == 16 and G.origin.startswith("local folder")
    samples = G.sample(6, seed=3)
    assert torch.equal(samples, ema_samples(run))
    assert not torch.equal(samples, load_run(run, ema=False).sample(6, seed=3))  # EMA, not raw, is exported
    assert torch.equal(ganzoo.load(str(export)).sample(6, seed=3), samples)  # the one-line front door


def test_load_on_a_dtype(export: Path, run: Path) -> None:
    G = load(export, dtype="float64")
    assert G.dtype == torch.float64
    assert torch.allclose(G.sample(6, seed=3), ema_samples(run), atol=1e-5)
    with pytest.raises(ConfigError, match="unknown dtype"):
        load(export, dtype="float7")


def test_load_a_run_directory_loads_its_newest_checkpoint(run: Path) -> None:
    G = load(run)
    assert G.origin.startswith("training run")
    assert torch.equal(G.sample(6, seed=3), ema_samples(run))


def test_export_with_discriminator_and_raw_weights(run: Path, tmp_path: Path) -> None:
    out = export_run(run, tmp_path / "full", include_discriminator=True)
    assert {p.name for p in out.iterdir()} == PUBLISHED | {"discriminator.safetensors"}
    reference = load_run(run, ema=False, discriminator=True)
    with safe_open(str(out / "discriminator.safetensors"), "pt") as fh:
        assert set(fh.keys()) == set(reference.model.state_dict())
    G = load(out, discriminator=True)
    for key, value in reference.model.discriminator.state_dict().items():
        assert torch.equal(G.discriminator.state_dict()[key], value), key
    assert torch.equal(G.sample(6, seed=3), ema_samples(run))  # the generator is still the EMA one
    raw = load(out, ema=False)  # the raw generator ships inside discriminator.safetensors
    assert torch.equal(raw.sample(6, seed=3), reference.sample(6, seed=3))

    export_run(run, out)  # exporting again without it removes the stale file
    assert not (out / "discriminator.safetensors").exists()
    with pytest.raises(CheckpointError, match="--include-discriminator"):
        load(out, discriminator=True)
    with pytest.raises(CheckpointError, match="raw generator"):
        load(out, ema=False)


def test_export_of_raw_weights(run: Path, tmp_path: Path) -> None:
    out = export_run(run, tmp_path / "raw", ema=False, samples=False)
    assert json.loads((out / "config.json").read_text())["weights"]["which"] == "raw"
    assert not (out / "samples.png").exists()
    assert torch.equal(load(out).sample(6, seed=3), load_run(run, ema=False).sample(6, seed=3))


def test_export_refuses_to_overwrite_what_it_did_not_write(run: Path, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="--force"):
        export_run(run, busy)
    export_run(run, busy, force=True)
    assert (busy / "notes.txt").read_text() == "mine" and (busy / "model.safetensors").is_file()
    export_run(run, busy)  # a previous export may be refreshed without --force
    with pytest.raises(ConfigError, match="training run"):
        export_run(run, run, force=True)
    with pytest.raises(CheckpointError, match="not a training run"):
        export_run(tmp_path / "nothing", tmp_path / "out")


@pytest.mark.parametrize("arch", ["cgan", "bigan"])
def test_conditional_and_encoder_families_round_trip(arch: str, tmp_path: Path) -> None:
    from ganzoo.build import PluginSpec

    result = ganzoo.train(arch, "non-saturating", PluginSpec("fake", {"n": 32}), tmp_path / "run", steps=1, batch_size=4,
                          progress=False, device="cpu", sample_every=100, checkpoint_every=100)
    out = export_run(result.run_dir, tmp_path / "export", include_discriminator=True)
    G, reference = load(out), load_run(result.run_dir)
    labels = [0, 1, 2, 9] if arch == "cgan" else None
    assert G.num_classes == (10 if arch == "cgan" else 0)
    assert torch.equal(G.sample(4, seed=1, labels=labels), reference.sample(4, seed=1, labels=labels))
    if arch == "bigan":  # the encoder ships in discriminator.safetensors and is loaded with it
        x = G.sample(2, seed=0)
        assert torch.allclose(G.encode(x), reference.encode(x))



def test_cli_sample_raw_from_an_export_uses_the_raw_generator(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `--raw` once fell back to the EMA weights for exports; the raw generator ships in discriminator.safetensors.
    out = export_run(run, tmp_path / "full", include_discriminator=True)
    raw, ema = tmp_path / "raw.png", tmp_path / "ema.png"
    assert run_cli(["sample", str(out), "--raw", "-n", "16", "--out", str(raw)], capsys)[0] == 0
    assert run_cli(["sample", str(out), "-n", "16", "--out", str(ema)], capsys)[0] == 0
    load_run(run, ema=False).save_grid(tmp_path / "raw-ref.png", n=16, seed=0)
    load_run(run).save_grid(tmp_path / "ema-ref.png", n=16, seed=0)
    assert raw.read_bytes() == (tmp_path / "raw-ref.png").read_bytes()
    assert ema.read_bytes() == (tmp_path / "ema-ref.png").read_bytes() != raw.read_bytes()
    # Without the raw model in the export, --raw says how to get it instead of sampling the EMA weights.
    code, _, err = run_cli(["sample", str(export_run(run, tmp_path / "lean")), "--raw", "--out", str(tmp_path / "x.png")], capsys)
    assert code == 1 and "--include-discriminator" in err and not (tmp_path / "x.png").exists()

# -- zoo models shipped in model_cards/ ----------------------------------------------------------------------
def test_zoo_name_loads_the_shipped_copy_without_network(zoo: Path, run: Path, offline_cache: Path) -> None:
    assert zoo_models() == ["dcgan-fashion-mnist"]
    G = load("dcgan-fashion-mnist")
    assert G.origin.startswith("model_cards")
    assert torch.equal(G.sample(6, seed=3), ema_samples(run))
    # The Hub id of a zoo model falls back to the shipped copy when offline with an empty cache.
    assert load("ganzoo/dcgan-fashion-mnist").origin.startswith("model_cards")
    folder, _ = locate("dcgan-fashion-mnist", need_weights=False)
    assert summarize(folder).startswith("org/tiny: An image generator with the dcgan architecture")  # what `make demo` prints


def test_zoo_hub_id_falls_back_to_the_shipped_copy_when_the_hub_is_unreachable(
    zoo: Path, run: Path, unreachable_hub: str, backoff_waits: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.perf_counter()
    G = load("ganzoo/dcgan-fashion-mnist")
    assert G.origin.startswith("model_cards")
    assert time.perf_counter() - started < 5  # refused connections; huggingface_hub's backoff waits are recorded, not slept
    assert backoff_waits  # hf_hub_download retried by itself before giving up: its LocalEntryNotFoundError means "unreachable"
    assert torch.equal(G.sample(6, seed=3), ema_samples(run))
    # one line of ganzoo's (huggingface_hub logs its retries on its own)
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("ganzoo:")]
    assert len(notes) == 1 and "ganzoo/dcgan-fashion-mnist could not be fetched from the Hub" in notes[0] and str(zoo) in notes[0]


def test_unreachable_hub_with_a_cached_copy_uses_it(export: Path, run: Path, unreachable_hub: str, backoff_waits: list[float],
                                                   tmp_path: Path) -> None:
    # hf_hub_download falls back to the HF cache by itself: no HEAD of ganzoo's own, no retry.
    commit = seed_hf_cache(tmp_path / "hf-cache", "org/tiny", export)
    G = load("org/tiny")
    assert commit in G.origin and backoff_waits == []
    assert torch.equal(G.sample(6, seed=3), ema_samples(run))


def test_a_load_makes_one_request_per_file(run: Path, hub: HubDouble) -> None:
    # The Hub counts each HEAD/GET of config.json as a download: one HEAD per load, and a GET on a cold cache.
    push(run, "org/tiny")
    mark = len(hub.requests)
    load("org/tiny")
    cold = hub.requests_since(mark)
    assert sorted(m for m, p in cold if p.endswith("/config.json")) == ["GET", "HEAD"]
    assert sorted(m for m, p in cold if p.endswith("/model.safetensors")) == ["GET", "HEAD"]
    assert all("/resolve/" in p for _, p in cold)  # nothing but the files
    mark = len(hub.requests)
    load("org/tiny")
    # config.json is checked once; the weights, pinned to its commit, come from the cache without a request
    assert [(m, p.rsplit("/", 1)[-1]) for m, p in hub.requests_since(mark)] == [("HEAD", "config.json")]


def test_a_zoo_model_missing_on_the_hub_says_it_uses_the_shipped_copy(zoo: Path, hub: HubDouble, capsys: pytest.CaptureFixture[str]) -> None:
    assert load("ganzoo/dcgan-fashion-mnist").origin.startswith("model_cards")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ganzoo: ganzoo/dcgan-fashion-mnist is not on the Hub") and str(zoo) in err
    load("dcgan-fashion-mnist")  # a bare zoo name means the shipped copy: nothing to say
    assert capsys.readouterr().err == ""


def test_unreachable_hub_and_empty_cache_is_one_line(unreachable_hub: str) -> None:
    with pytest.raises(HubUnreachableError) as info:
        load("someone/some-gan")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("could not reach the Hub") and "is not in the cache" in message
    assert "HF_HUB_OFFLINE=1 with a seeded cache" in message


def test_unknown_local_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load(tmp_path / "missing")
    with pytest.raises(CheckpointError, match="neither an exported model"):
        load(tmp_path)


# -- a seeded HF cache, offline ---------------------------------------------------------------------------------
def test_offline_load_from_a_seeded_cache(export: Path, run: Path, offline_cache: Path) -> None:
    commit = seed_hf_cache(offline_cache, "org/tiny", export)
    G = load("org/tiny")
    assert G.origin.startswith("HF cache") and commit in G.origin
    assert torch.equal(G.sample(6, seed=3), ema_samples(run))
    assert torch.equal(load("org/tiny@main").sample(2, seed=0), load("org/tiny", revision=commit).sample(2, seed=0))
    with pytest.raises(HubUnreachableError) as info:
        load("org/absent")
    assert "not in the HF cache" in str(info.value) and "HF_HUB_OFFLINE" in str(info.value)
    with pytest.raises(CheckpointError, match="--include-discriminator"):
        load("org/tiny", discriminator=True)
    with pytest.raises(ConfigError, match="pass one"):
        load("org/tiny@main", revision="other")


def test_offline_cache_entry_with_a_pickle_is_refused(export: Path, offline_cache: Path, tmp_path: Path) -> None:
    bad = Path(shutil.copytree(export, tmp_path / "bad"))
    torch.save({"w": torch.zeros(1)}, bad / "model.safetensors")
    seed_hf_cache(offline_cache, "org/bad", bad)
    with pytest.raises(CheckpointError, match="zip archive"):
        load("org/bad")


def test_local_files_only_forces_the_cache(export: Path, hub: HubDouble) -> None:
    with pytest.raises(HubUnreachableError, match="local_files_only=True"):
        load("org/tiny", local_files_only=True)
    assert not [r for r in hub.requests if "/resolve/" in r[1]]


# -- push, pull, load offline: the Hub double -----------------------------------------------------------------------
def test_push_pull_then_offline_load(run: Path, hub: HubDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    url = push(run, "org/tiny")
    repo = hub.repo("org/tiny")
    head = repo.history()[0]
    assert url.endswith(head.oid)
    assert [c.summary for c in repo.history()][1:] == ["initial commit"]  # everything in one commit
    assert set(head.added) == PUBLISHED and head.deleted == []
    assert sum(1 for method, path in hub.requests if "/commit/" in path) == 1

    from huggingface_hub import HfApi

    info = HfApi().model_info("org/tiny")
    assert info.sha == head.oid and {s.rfilename for s in info.siblings} == PUBLISHED | {".gitattributes"}
    card = head.files["README.md"].decode()
    assert 'ganzoo.load("org/tiny")' in card  # pushed runs are exported with the repo id as model id

    G = load("org/tiny")
    assert G.origin.startswith("Hub") and head.oid in G.origin
    assert torch.equal(G.sample(6, seed=3), ema_samples(run))

    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    before = len(hub.requests)
    G = load("org/tiny")
    assert G.origin.startswith("HF cache") and len(hub.requests) == before  # no network at all
    assert torch.equal(G.sample(6, seed=3), ema_samples(run))


def test_push_an_export_folder_branches_and_stale_files(run: Path, export: Path, hub: HubDouble, tmp_path: Path) -> None:
    full = export_run(run, tmp_path / "full", include_discriminator=True, model_id="org/tiny")
    push(full, "org/tiny", include_discriminator=True)
    assert "discriminator.safetensors" in hub.repo("org/tiny").history()[0].files
    assert load("org/tiny", discriminator=True).discriminator is not None

    push(export, "org/tiny")  # the export without a discriminator: the old one is deleted
    head = hub.repo("org/tiny").history()[0]
    assert head.deleted == ["discriminator.safetensors"] and "discriminator.safetensors" not in head.files
    with pytest.raises(CheckpointError, match="no discriminator"):
        load("org/tiny", discriminator=True)

    push(full, "org/tiny", revision="dev", commit_message="with D")
    repo = hub.repo("org/tiny")
    assert repo.history("dev")[0].summary == "with D" and "discriminator.safetensors" not in repo.history("main")[0].files
    assert load("org/tiny@dev", discriminator=True).discriminator is not None
    with pytest.raises(CheckpointError, match="--include-discriminator"):
        push(export, "org/tiny", include_discriminator=True)


def test_hub_errors_say_what_to_do(run: Path, hub: HubDouble) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        load("org/missing")
    assert "not found on the Hub" in str(info.value) and "check the id or pass a local folder" in str(info.value)
    push(run, "org/tiny")
    with pytest.raises(ModelNotFoundError, match="revision 'nope'"):
        load("org/tiny@nope")
    from huggingface_hub import HfApi

    HfApi().create_repo("org/empty")
    with pytest.raises(ModelNotFoundError, match="has no config.json"):
        load("org/empty")
    with pytest.raises(ConfigError, match="not a valid Hub repo id"):
        load("org/bad name")
    with pytest.raises(ConfigError, match="org/name"):
        push(run, "just-a-name")


def test_push_without_network_is_one_line(run: Path, unreachable_hub: str) -> None:
    with pytest.raises(HubUnreachableError) as info:
        push(run, "org/tiny")
    message = str(info.value)
    assert "\n" not in message and "could not reach the Hub" in message and "nothing was uploaded" in message


def test_private_repo_needs_a_token(run: Path, hub: HubDouble) -> None:
    push(run, "org/secret", private=True, token="hf_write")
    assert hub.repo("org/secret").private
    with pytest.raises(ModelNotFoundError):
        load("org/secret", token=False)
    assert load("org/secret", token="hf_read").sample(1, seed=0).shape == (1, 1, 28, 28)


def test_push_renders_the_card_for_the_repo_it_pushes_to(run: Path, export: Path, hub: HubDouble, tmp_path: Path) -> None:
    plain = export_run(run, tmp_path / "plain")  # no model id: made for "dcgan-fake"
    before = {p.name: p.read_bytes() for p in plain.iterdir()}
    push(plain, "alice/my-dcgan")
    files = hub.repo("alice/my-dcgan").history()[0].files
    card = ModelCard(files["README.md"].decode())
    assert "# alice/my-dcgan\n" in card.text and 'ganzoo.load("alice/my-dcgan")' in card.text and "dcgan-fake" not in card.text
    assert json.loads(files["config.json"])["weights"]["model_id"] == "alice/my-dcgan"  # re-rendering gives the same card
    assert files["model.safetensors"] == before["model.safetensors"]
    assert {p.name: p.read_bytes() for p in plain.iterdir()} == before  # the export folder is left as it was
    push(export, "org/tiny")  # an export made for this repo is published byte for byte
    assert hub.repo("org/tiny").history()[0].files["README.md"] == (export / "README.md").read_bytes()


def test_push_with_a_license(export: Path, hub: HubDouble) -> None:
    push(export, "org/tiny", license="cc-by-nc-4.0")
    files = hub.repo("org/tiny").history()[0].files
    assert ModelCard(files["README.md"].decode()).data.license == "cc-by-nc-4.0"
    assert json.loads(files["config.json"])["weights"]["license"] == "cc-by-nc-4.0"
    with pytest.raises(HubError, match="license"):  # the Hub (here its double) refuses an unknown licence id
        push(export, "org/tiny", license="apache")


def test_revisions_with_slashes_and_pull_requests(export: Path, run: Path, hub: HubDouble, capsys: pytest.CaptureFixture[str]) -> None:
    push(export, "org/tiny")
    push(export, "org/tiny", revision="feature/x", license="mit")
    assert load("org/tiny@feature/x").origin.startswith("Hub")  # not "folder ... does not exist"
    assert "feature/x" in hub.repo("org/tiny").branches

    hub.repo("org/tiny").writers = {"Bearer hf_owner"}  # someone else's repo
    with pytest.raises(HubError, match="--create-pr"):
        push(export, "org/tiny", token="hf_visitor", license="mit")
    url = push(export, "org/tiny", token="hf_visitor", create_pr=True, license="cc-by-4.0")
    repo = hub.repo("org/tiny")
    assert url.endswith("/org/tiny/discussions/1") and repo.branches["refs/pr/1"] != repo.branches["main"]
    assert repo.history("main")[0].files["README.md"] == (export / "README.md").read_bytes()  # main is untouched
    G = load("org/tiny@refs/pr/1")
    assert repo.branches["refs/pr/1"] in G.origin and torch.equal(G.sample(6, seed=3), ema_samples(run))
    assert load("org/tiny", revision="refs/pr/1").origin == G.origin

    code, out, err = run_cli(["push", str(export), "--repo", "org/tiny", "--create-pr", "--license", "cc-by-sa-4.0",
                              "--token", "hf_visitor", "--endpoint", hub.url], capsys)
    assert code == 0, err
    assert "pull request" in out and out.rstrip().endswith("/org/tiny/discussions/2")
    with pytest.raises(HubError, match="no repo"):  # a pull request needs an existing repo
        push(export, "org/absent", create_pr=True)


def test_huggingface_hub_names_on_the_generator(run: Path, export: Path, hub: HubDouble, tmp_path: Path) -> None:
    G = PretrainedGenerator.from_pretrained(export)
    assert torch.equal(G.sample(6, seed=3), ema_samples(run))
    saved = G.save_pretrained(tmp_path / "saved", model_id="org/saved")
    assert {p.name for p in saved.iterdir()} == PUBLISHED
    weights = json.loads((saved / "config.json").read_text())["weights"]
    assert weights["model_id"] == "org/saved" and weights["which"] == "ema" and weights["sha256"] == sha256_file(saved / "model.safetensors")
    assert (saved / "README.md").read_text() == render_card(saved)  # the card is the export's card
    assert torch.equal(ganzoo.load(saved).sample(6, seed=3), G.sample(6, seed=3))

    from_run = PretrainedGenerator.from_pretrained(run).save_pretrained(tmp_path / "from-run", samples=False)
    assert {p.name for p in from_run.iterdir()} == PUBLISHED - {"samples.png"}
    assert torch.equal(load(from_run).sample(6, seed=3), ema_samples(run))

    url = G.push_to_hub("org/saved", license="mit")
    head = hub.repo("org/saved").history()[0]
    assert url.endswith(head.oid) and ModelCard(head.files["README.md"].decode()).data.license == "mit"
    assert torch.equal(PretrainedGenerator.from_pretrained("org/saved").sample(6, seed=3), G.sample(6, seed=3))


# -- torch.hub ---------------------------------------------------------------------------------------------------------
def test_hubconf_with_source_local(zoo: Path, run: Path, offline_cache: Path) -> None:
    G = torch.hub.load(str(REPO_ROOT), "dcgan_fashion_mnist", source="local", pretrained=True)
    assert isinstance(G, ganzoo.PretrainedGenerator)
    assert torch.equal(G.sample(6, seed=3), ema_samples(run))
    untrained = torch.hub.load(str(REPO_ROOT), "dcgan_fashion_mnist", source="local", pretrained=False)
    assert untrained.latent_dim == G.latent_dim and not untrained.generator.training
    assert not torch.equal(untrained.sample(6, seed=3), G.sample(6, seed=3))


@pytest.fixture
def never_installed(monkeypatch: pytest.MonkeyPatch):
    """ganzoo as a checkout that was never pip-installed sees it: no ganzoo distribution, so none of
    its entry points (the registries forget what they found before, and after)."""
    from importlib import metadata

    real_entry_points, real_distribution = metadata.entry_points, metadata.distribution

    def entry_points(**params):
        found = real_entry_points(**params)
        if not str(params.get("group", "")).startswith("ganzoo."):
            return found
        return [ep for ep in found if getattr(ep, "dist", None) is None or ep.dist.metadata["Name"] != "ganzoo"]

    def distribution(name: str):
        if name == "ganzoo":
            raise metadata.PackageNotFoundError(name)
        return real_distribution(name)

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    monkeypatch.setattr(metadata, "distribution", distribution)
    for reg in registry.REGISTRIES.values():
        reg.refresh()
    yield
    for reg in registry.REGISTRIES.values():
        reg.refresh()


def test_builtins_are_read_from_the_checkout_when_ganzoo_is_not_installed(never_installed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = registry.architectures.entry("dcgan")
    assert (entry.distribution, entry.version, entry.target) == ("ganzoo", ganzoo.__version__, "ganzoo.architectures.dcgan:DCGAN")
    assert "Radford" in entry.summary
    assert {"non-saturating", "wgan-gp"} <= set(registry.losses.names()) and "celeba" in registry.datasets
    assert registry.tricks.get("r1").__name__ == "R1"
    monkeypatch.setattr(registry, "CHECKOUT_PYPROJECT", REPO_ROOT / "absent.toml")  # what torch.hub users hit before
    registry.architectures.refresh()
    with pytest.raises(UnknownPluginError, match="unknown architecture 'dcgan'"):
        registry.architectures.entry("dcgan")


def test_hubconf_from_a_checkout_that_was_never_installed(never_installed: None, zoo: Path, run: Path, offline_cache: Path) -> None:
    G = torch.hub.load(str(REPO_ROOT), "dcgan_fashion_mnist", source="local", pretrained=True)
    assert torch.equal(G.sample(6, seed=3), ema_samples(run))


# -- the command line ----------------------------------------------------------------------------------------------------
def test_cli_export_push_sample(run: Path, hub: HubDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GANZOO_DEBUG", raising=False)
    code, out, err = run_cli(["export", str(run), str(tmp_path / "out"), "--model-id", "org/cli"], capsys)
    assert code == 0, err
    assert {p.name for p in (tmp_path / "out").iterdir()} == PUBLISHED
    code, out, err = run_cli(["export", str(run), str(tmp_path)], capsys)  # tmp_path holds "out": not empty
    assert code == 1 and err.count("\n") == 1 and "--force" in err

    code, out, err = run_cli(["push", str(tmp_path / "out"), "--repo", "org/cli", "--endpoint", hub.url], capsys)
    assert code == 0, err
    assert hub.repo("org/cli").history()[0].oid in out
    code, out, err = run_cli(["sample", "org/cli", "-n", "4", "--out", str(tmp_path / "grid.png")], capsys)
    assert code == 0, err
    assert (tmp_path / "grid.png").is_file()


def test_cli_push_without_network(run: Path, unreachable_hub: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GANZOO_DEBUG", raising=False)
    code, out, err = run_cli(["push", str(run), "--repo", "org/tiny"], capsys)
    assert code == 1 and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("error: could not reach the Hub")


def test_cli_says_once_that_it_waits_for_the_hub_and_names_the_zoo_model_a_typo_meant(
    zoo: Path, unreachable_hub: str, backoff_waits: list[float], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GANZOO_DEBUG", raising=False)
    passed: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = passed.append  # what reaches huggingface_hub's own handlers
    http_log = logging.getLogger("huggingface_hub.utils._http")
    http_log.addHandler(handler)
    try:
        code, _, err = run_cli(["sample", "dcgan-fashion-mnst", "-n", "4", "--device", "cpu"], capsys)
    finally:
        http_log.removeHandler(handler)
    assert code == 1 and len(backoff_waits) == 5  # huggingface_hub still retried, but said nothing of it
    assert not [r for r in passed if "Retry" in r.getMessage() or "thrown while requesting" in r.getMessage()]
    notice, error = err.splitlines()
    assert notice.startswith("ganzoo: the Hub did not answer (") and "HF_HUB_OFFLINE=1" in notice
    assert error.startswith("error: no zoo model named 'dcgan-fashion-mnst' ships with ganzoo (did you mean dcgan-fashion-mnist? "
                            "`ganzoo zoo` lists them), and looking for ganzoo/dcgan-fashion-mnst on the Hub failed: could not reach")
    assert not http_log.filters  # the command removed its filter: the library's logging is as it was


def test_an_unknown_bare_name_offline_names_the_zoo(zoo: Path, offline_cache: Path) -> None:
    with pytest.raises(HubUnreachableError) as info:
        load("no-such-gan")
    message = str(info.value)
    assert message.startswith("no zoo model named 'no-such-gan' ships with ganzoo (`ganzoo zoo` lists them)")
    assert "not in the HF cache" in message and "\n" not in message


def test_errors_are_ganzoo_errors() -> None:
    for cls in (HubUnreachableError, ModelNotFoundError):
        assert issubclass(cls, GanzooError)
