"""The one training loop and what it needs: building, checkpoints, EMA, distributed helpers."""
