"""Trick plugins: composable regularizers and training options (entry-point group ``ganzoo.tricks``).

Each trick is a :class:`~ganzoo.contracts.Trick` that works through the engine's generic hooks
(``attach``, ``d_input``, and the step hooks ``terms``, ``after_d_step``, ``end_step``), so any trick composes with any
architecture and loss that offers what it ``requires``. Where each common GAN training option lives:

=========================================  ================================================
option                                     where
=========================================  ================================================
spectral normalization                     trick ``spectral-norm`` (normalization.py)
virtual batch normalization                trick ``virtual-batch-norm`` (normalization.py)
gradient penalty (one- or two-sided)       trick ``gradient-penalty`` (gradient.py); built into
                                           the ``wgan-gp`` and ``dragan`` losses
R1 penalty (lazy or every step)            trick ``r1`` (gradient.py)
one-sided label smoothing                  trick ``label-smoothing`` (labels.py)
minibatch discrimination                   trick ``minibatch-discrimination`` (features.py)
minibatch standard deviation               trick ``minibatch-stddev`` (features.py)
dropout in the discriminator               trick ``d-dropout`` (features.py)
feature matching                           trick ``feature-matching`` (matching.py)
historical averaging                       trick ``historical-averaging`` (weights.py)
adaptive L2 penalty on the discriminator   trick ``adaptive-l2`` (weights.py)
instance noise                             trick ``instance-noise`` (inputs.py)
DiffAugment                                trick ``diffaugment`` (inputs.py)
packing: D judges m samples at once        trick ``pack`` (packing.py)
  (PacGAN, Lin et al. 2018)
unrolled GAN (Metz et al. 2017)            trick ``unroll`` (unrolling.py), through the
                                           engine's look-ahead (``lookahead_steps``)
weight clipping                            built into the ``wasserstein`` loss
two time-scale update rule (TTUR,          engine options ``--lr-g`` / ``--lr-d``
  Heusel et al. 2017)                      (TrainConfig.lr_g / lr_d)
several D steps per G step                 engine option ``--n-critic``; losses set the
                                           paper's value in ``train_defaults``
EMA of generator weights (Karras et al.    engine option ``--ema`` / ``--ema-start``
  2018; Yazici et al. 2019)                (ganzoo/engine/ema.py)
=========================================  ================================================

Tricks that change the networks' structure (spectral norm, VBN, minibatch features, dropout)
do it in ``attach``, which also runs when a saved model is rebuilt for sampling, so the saved
weights load into the same structure. The order of ``--trick`` options is the order of
``attach``: e.g. ``spectral-norm`` listed after ``minibatch-discrimination`` also normalizes the
minibatch layer's projection.
"""
