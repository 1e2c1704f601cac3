"""``ganzoo push``: publish a run (or an exported folder) to the Hugging Face Hub in one commit."""
from __future__ import annotations

import click


@click.command("push")
@click.argument("source", type=click.Path(file_okay=False))
@click.option("--repo", "repo_id", required=True, help="Hub repo id, org/name; created if it does not exist.")
@click.option("--private", is_flag=True, help="Create the repo as private.")
@click.option("--revision", default=None, help="Branch to commit to (created if needed); default main. With --create-pr, the branch the pull request targets.")
@click.option("--create-pr", is_flag=True, help="Open a pull request on an existing repo instead of committing (no write access needed).")
@click.option("--license", "license", default=None, help="Hub licence id for the card, e.g. mit or cc-by-nc-4.0 (default: the export's, else the dataset plugin's, else apache-2.0).")
@click.option("--include-discriminator", is_flag=True, help="Also publish discriminator.safetensors (for fine-tuning).")
@click.option("--token", default=None, envvar="HF_TOKEN", help="Hub token with write access (default: HF_TOKEN or the saved login).")
@click.option("--message", "commit_message", default=None, help="Commit message.")
@click.option("--endpoint", default=None, help="Hub endpoint (default: HF_ENDPOINT or https://huggingface.co).")
def command(source: str, repo_id: str, private: bool, revision: str | None, create_pr: bool, license: str | None,
            include_discriminator: bool, token: str | None, commit_message: str | None, endpoint: str | None) -> None:
    """Publish SOURCE (a training run or an exported model folder) to the Hub as REPO, in one commit: the
    whole export (config.json, model.safetensors, the README.md model card rendered for REPO, samples.png,
    figures/, and discriminator.safetensors where the export has one)."""
    from ..hub import push  # torch: deferred so `ganzoo --help` stays light

    url = push(source, repo_id, private=private, revision=revision, token=token, include_discriminator=include_discriminator,
               commit_message=commit_message, endpoint=endpoint, license=license, create_pr=create_pr)
    click.echo(f"opened a pull request on {repo_id} with {source}: {url}" if create_pr else f"pushed {source} to {repo_id}: {url}")
