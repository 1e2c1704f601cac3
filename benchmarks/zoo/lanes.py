"""Build several zoo models on two CPU threads: one lane trains the next model while the other scores the last.

Training and the 10k-image scoring each keep one thread busy for about an hour, so on a two-core
machine the fastest order is a pipeline: lane 1 trains model k+1 (``build.py ID --train-only``)
while lane 2 scores and exports model k (``build.py ID``). Each lane is a ``build.py`` process with
one thread; a model is never in both lanes at once. Before its first scoring, lane 2 caches the
10,000 real test images' features (``ganzoo reference``), so on a fresh machine that half hour runs
beside the first training instead of inside the first scoring. Nothing starts that could not finish before
``--until``: training gets the time left as its budget (and resumes next time), and scoring starts
only with ``--score-minutes`` left.

    python benchmarks/zoo/lanes.py --until 08:20                        # every model not yet in results.json
    python benchmarks/zoo/lanes.py --until 08:20 wgan-fashion-mnist mlp-fashion-mnist

Run it from a ``git worktree`` in the background (``nohup ... &``); the cards land in that
worktree's ``model_cards/`` and ``benchmarks/zoo/results.json``; copy them over and run
``make zoo-sync``. The log says when each lane starts and ends what.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from build import N_EVAL, RECIPES, REPO, step_of
from ganzoo.safeio import read_json

BUILD = Path(__file__).with_name("build.py")
RESULTS = Path(__file__).with_name("results.json")
MIN_TRAIN_S = 600  # a training slice shorter than this is not worth starting
# The real side of every zoo score: build.py compares with the first N_EVAL test images, fp32 features.
REFERENCE = ["-m", "ganzoo.cli", "reference", "fashion-mnist", "--split", "test", "--n-real", str(N_EVAL)]


def trained_to(runs: Path, model_id: str) -> int:
    return step_of(runs / model_id)


def scored(model_id: str) -> bool:
    """Whether results.json holds this model at its recipe's current length."""
    models = read_json(RESULTS, "zoo results").get("models", {}) if RESULTS.is_file() else {}
    return models.get(model_id, {}).get("steps") == RECIPES[model_id].steps


class Lanes:
    def __init__(self, ids: list[str], runs: Path, deadline: float, score_s: float) -> None:
        self.ids, self.runs, self.deadline, self.score_s = ids, runs, deadline, score_s
        self.busy: set[str] = set()
        self.lock = threading.Lock()

    def left(self) -> float:
        return self.deadline - time.time()

    def _claim(self, want_scoring: bool) -> tuple[str, bool] | None:
        """The next model for a lane and whether to score it (else train it), marked busy; None: nothing to do."""
        with self.lock:
            free = [i for i in self.ids if i not in self.busy and not scored(i)]
            ready = [i for i in free if trained_to(self.runs, i) >= RECIPES[i].steps]
            untrained = [i for i in free if i not in ready]
            if want_scoring and ready and self.left() >= self.score_s:
                pick, score = ready[0], True
            elif untrained and self.left() >= MIN_TRAIN_S:
                pick, score = untrained[0], False
            elif ready and self.left() >= self.score_s:
                pick, score = ready[0], True
            else:
                return None
            self.busy.add(pick)
            return pick, score

    def lane(self, name: str, prefers_scoring: bool) -> None:
        if prefers_scoring:
            log(f"{name}: caching the real test features (a cache hit takes seconds)")
            code = self._run(REFERENCE)
            log(f"{name}: real test features {'ready' if code == 0 else f'not cached (exit {code}); the first scoring computes them'}")
        while True:
            claimed = self._claim(prefers_scoring)
            if claimed is None:
                # The other lane may still finish a training that this lane could then score.
                with self.lock:
                    waiting = bool(self.busy) and self.left() >= self.score_s
                if not waiting:
                    log(f"{name}: nothing left that fits before the deadline")
                    return
                time.sleep(30)
                continue
            model_id, score = claimed
            command = [str(BUILD), model_id, "--runs", str(self.runs)]
            if not score:
                command += ["--train-only", "--budget-s", str(int(self.left()))]
            log(f"{name}: {'scoring' if score else 'training'} {model_id}")
            code = self._run(command)
            log(f"{name}: {model_id} {'scored' if score else 'trained'} (exit {code}, step {trained_to(self.runs, model_id)} "
                f"of {RECIPES[model_id].steps})")
            with self.lock:
                self.busy.discard(model_id)
                if code != 0:
                    self.ids.remove(model_id)  # a failing model is reported, not retried forever

    @staticmethod
    def _run(arguments: list[str]) -> int:
        """Run ``python ARGUMENTS`` on one thread, with this checkout's ganzoo first on the path."""
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        return subprocess.call([sys.executable, *arguments], env=env)


def log(message: str) -> None:
    print(f"{dt.datetime.now():%H:%M:%S} {message}", flush=True)


def deadline_of(text: str) -> float:
    """HH:MM today (tomorrow if already past) as a Unix time."""
    try:
        hour, minute = (int(part) for part in text.split(":"))
        now = dt.datetime.now()
        when = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    except ValueError:
        raise SystemExit(f"--until must be HH:MM, got {text!r}") from None
    return (when if when > now else when + dt.timedelta(days=1)).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", help="zoo ids, in the order to build them (default: every recipe not yet scored)")
    parser.add_argument("--until", required=True, help="HH:MM by which every lane is done (training stops there and resumes next time)")
    parser.add_argument("--runs", default=str(REPO / "runs" / "zoo"), help="where the training runs live")
    parser.add_argument("--score-minutes", type=float, default=60, help="start a scoring only with this much time left")
    args = parser.parse_args()
    unknown = [i for i in args.ids if i not in RECIPES]
    if unknown:
        raise SystemExit(f"unknown zoo id {unknown[0]!r}; known: {', '.join(RECIPES)}")
    ids = args.ids or [i for i in RECIPES if not scored(i)]
    plan = Lanes(ids, Path(args.runs), deadline_of(args.until), args.score_minutes * 60)
    log(f"{len(ids)} models, {plan.left() / 60:.0f} min until {args.until}: {', '.join(ids)}")
    # Lane 1 prefers training, lane 2 scoring; either takes the other kind of work when its own runs out.
    threads = [threading.Thread(target=plan.lane, args=(f"lane {k + 1}", k == 1)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
