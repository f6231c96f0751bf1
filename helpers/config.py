"""One dataclass per concern (model, data, VAE training, GAN training) and the presets table.

Every run saves its resolved configs as JSON; checkpoints carry the model config, so a model
can be rebuilt from its checkpoint alone.
"""

from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class ModelConfig:
    image_size: int = 64  # 64 or 128
    latent_dim: int = 128
    # Generator widths at 4x4, 8x8, ... up to image_size / 2; the last stage upsamples
    # straight to RGB, so no wide feature map is ever held at full resolution.
    g_channels: tuple = (256, 128, 64, 32)
    # Discriminator widths from image_size / 2 down to 4x4, and its design (models/discriminator.py).
    d_channels: tuple = (32, 64, 128, 256)
    d_blocks: str = "residual"  # "residual" (SNGAN/StyleGAN2-style down blocks) or "plain" (one conv per stage)
    d_spectral_norm: str = "head"  # where D has spectral norm: "all", "head" (output and VA layers) or "none"
    # 0: D starts with space-to-depth (each 2x2 pixel block becomes 12 channels at half size) and one conv, so it sees
    # single-pixel patterns only through that linear layer. > 0 (residual D only): a 3x3 conv to this many channels at
    # the image's own size and a residual down block to half size, so D has non-linear features of single pixels.
    d_full_resolution_channels: int = 0
    # VAE encoder widths, image_size / 2 down to 4x4.
    encoder_channels: tuple = (32, 64, 128, 128)
    eru: str = "film"  # "film" (the original's final form) or "attention" (Park & Lee 2020)
    eru_hidden: int = 32
    eru_at_start: bool = True  # one more ERU on the 4x4 block (models/generator.py)
    # "tied" (nearest x2 + 3x3 conv, the first version's) or "subpixel" (ICNR PixelShuffle). Tied: the sub-pixel
    # layer drew a fine grid texture, and at the full quick budget it scored KID 0.117 (AMD EPYC run) against
    # the tied layer's 0.073 (benchmarks/results/ablations_full_budget.json; 0.126 vs 0.246/0.297 at 0.4 budget).
    rgb_output: str = "tied"
    # How every x2 upsampling in the generator starts before its 3x3 conv: "nearest" (the original's) or "bilinear"
    # (nearest, then a fixed [1, 2, 1] filter; models/upsample.py), which leaves G no 2-pixel grid to put its dots on;
    # "bilinear_last": bilinear only for the last upsampling, to the output's size, where a 2-pixel grid of the output forms.
    # Nearest: at 60 epochs of the quick recipe bilinear scored test KID 0.107 / 0.083 / 0.082 against 0.057 / 0.079 / 0.064
    # (seeds 0-2) with softer pictures, bilinear_last 0.100 / 0.098 (benchmarks/README.md, fourteenth session). Switched
    # on for the last 50 of 650 epochs of the reference run, bilinear_last took 66% of its dark images' dots to one phase
    # against the control's 79% (real 26%), left them on the same pixels, and scored a worse paired test KID (0.0213
    # against 0.0204; twenty-fourth session).
    upsample: str = "nearest"
    # 0: the RGB layer above makes the full-size image straight from the last stage's features, so
    # every 2x2 block of output pixels is an interpolation of one 3x3 neighbourhood at half size.
    # > 0: one feature stage at full resolution with this many channels (nearest x2 + 3x3 conv),
    # then a 3x3 conv to RGB, so the generator can draw detail at the output's own pixel size.
    full_resolution_channels: int = 0
    # Per-pixel noise inputs (Karras et al., StyleGAN, CVPR 2019, section 3.2): one noise map per
    # generator stage, added with a learned per-channel strength that starts at 0, so stochastic
    # detail (rain, snow, grass) need not be drawn from z through every layer. The noise is part
    # of what a seed fixes: G's input is then (latent_dim + noise_dim) numbers (``input_dim``).
    noise_inputs: bool = False
    # Skip outputs (Karras et al., StyleGAN2, CVPR 2020, section 4.1): every stage also draws an RGB image
    # (a 1x1 conv), and the image is the sum of these, each bilinearly upsampled to the next size. Off: at
    # the full quick budget they scored test-split KID 0.056 (seed 0), the same as without (0.053-0.063).
    rgb_skips: bool = False
    projection: bool = False  # projection conditioning in D (Miyato & Koyama 2018)
    mbstd_group: int = 4  # minibatch standard deviation group size (Karras et al. 2018)

    @property
    def noise_sizes(self) -> tuple:
        """Side lengths of the generator's noise maps: each upsampled stage, and the full-resolution one."""
        if not self.noise_inputs:
            return ()
        sizes = tuple(8 * 2 ** i for i in range(self.stages))
        return sizes + ((self.image_size,) if self.full_resolution_channels else ())

    @property
    def input_dim(self) -> int:
        """How many standard normal numbers a seed gives the generator: z, then the noise maps."""
        return self.latent_dim + sum(size * size for size in self.noise_sizes)

    @property
    def stages(self) -> int:
        """Upsampling stages with an ERU: 3 at 64x64 and 4 at 128x128, like the original's first version."""
        return {64: 3, 128: 4}[self.image_size]

    def check(self) -> "ModelConfig":
        if self.image_size not in (64, 128):
            raise ValueError(f"image_size must be 64 or 128, not {self.image_size}")
        for name in ("g_channels", "d_channels", "encoder_channels"):
            if len(getattr(self, name)) != self.stages + 1:
                raise ValueError(f"{name} needs {self.stages + 1} widths for {self.image_size}px, got {getattr(self, name)}")
        if self.d_blocks not in ("residual", "plain"):
            raise ValueError(f"d_blocks must be 'residual' or 'plain', not {self.d_blocks!r}")
        if self.d_spectral_norm not in ("all", "head", "none"):
            raise ValueError(f"d_spectral_norm must be 'all', 'head' or 'none', not {self.d_spectral_norm!r}")
        if self.rgb_output not in ("tied", "subpixel"):
            raise ValueError(f"rgb_output must be 'tied' or 'subpixel', not {self.rgb_output!r}")
        if self.upsample not in ("nearest", "bilinear", "bilinear_last"):
            raise ValueError(f"upsample must be 'nearest', 'bilinear' or 'bilinear_last', not {self.upsample!r}")
        if self.d_full_resolution_channels < 0:
            raise ValueError(f"d_full_resolution_channels must be 0 or more, not {self.d_full_resolution_channels}")
        if self.d_full_resolution_channels and self.d_blocks != "residual":
            raise ValueError("d_full_resolution_channels needs d_blocks='residual'; the plain D shares the VAE encoder's path")
        if self.full_resolution_channels < 0:
            raise ValueError(f"full_resolution_channels must be 0 or more, not {self.full_resolution_channels}")
        if self.full_resolution_channels and self.rgb_output != "tied":
            raise ValueError(f"rgb_output={self.rgb_output!r} chooses how the last stage makes the image without a "
                             "full-resolution stage; use it with full_resolution_channels=0")
        if self.eru not in ("film", "attention"):
            raise ValueError(f"eru must be 'film' or 'attention', not {self.eru!r}")
        return self


# The first version's recipe, for the ablations: one conv per D stage with spectral norm on every
# layer, VA from 8x8 on, a tied nearest+conv RGB output straight from the last stage, no noise inputs.
FIRST_VERSION_MODEL = dict(d_blocks="plain", d_spectral_norm="all", d_channels=(32, 64, 128, 128), d_full_resolution_channels=0,
                           eru_at_start=False, rgb_output="tied", upsample="nearest", full_resolution_channels=0,
                           noise_inputs=False)

# Model widths per preset and size: "ci" tiny (proves the code runs), "quick" sized for a CPU
# budget, "full" for a GPU (the original had 5 M parameters in G and 28 M in D). The full-resolution
# stage and the noise inputs were measured at 64 px only; the 128 px models do not have them yet.
MODEL_WIDTHS = {
    ("ci", 64): dict(g_channels=(64, 32, 16, 8), d_channels=(8, 16, 32, 32), encoder_channels=(8, 16, 32, 32),
                     full_resolution_channels=8, noise_inputs=True),
    ("ci", 128): dict(g_channels=(64, 32, 16, 8, 8), d_channels=(8, 8, 16, 32, 32), encoder_channels=(8, 8, 16, 32, 32)),
    # quick at 64 px: a 16-channel stage at full resolution and noise inputs took the full quick run's test-split
    # KID from 0.073 and 0.091 (two seeds without them) to 0.059 (benchmarks/results/ablations_full_budget.json).
    # A 1.5x wider D (d_channels 48, 96, 192, 256) scored 0.051 and 0.058 against 0.053-0.063, 19% slower: not taken.
    # G's 32 px and 64 px stages twice as wide (g_channels 256, 128, 64, 64, full_resolution_channels 32), its own VAE,
    # 60 epochs with LeCam: 0.056 and 0.068 against 0.057 and 0.079, 1.17x the time on one thread (benchmarks/README.md,
    # fifteenth session): a gain per epoch about what the time would buy the narrow G, so quick keeps its widths.
    # D's start at full resolution (d_full_resolution_channels=16, a 3x3 conv and a residual block at 64x64 before D's
    # 32x32 stage, instead of space-to-depth) on one AMD Zen 5, bf16, one VAE: after 60 epochs test KID 0.062 and 0.062
    # against 0.076 and 0.077 (seeds 0, 1), but phase 3 at 201 against 239 images/s; at equal time, seed 0: in 16 minutes
    # (109 epochs against all 126) 0.049 ± 0.009 against 0.052 ± 0.008, in 8 minutes (61 against 75, as a host half as
    # fast gets) 0.068 ± 0.011 against 0.056 ± 0.009 (benchmarks/README.md, eighteenth session): not taken. With 8
    # channels on a 2-core Zen 3 (fp32), 16 minutes: 25 epochs at 42 images/s, KID 0.192 ± 0.014, against 30 at 50,
    # 0.110 ± 0.012 (nineteenth session).
    # The reference preset (600 fixed epochs, where a gain per epoch counts) takes it: below.
    ("quick", 64): dict(g_channels=(256, 128, 64, 32), d_channels=(32, 64, 128, 256), encoder_channels=(32, 64, 128, 128),
                        projection=True, full_resolution_channels=16, noise_inputs=True),
    ("quick", 128): dict(g_channels=(256, 128, 64, 32, 16), d_channels=(16, 32, 64, 128, 256),
                         encoder_channels=(16, 32, 64, 128, 128)),
    ("full", 64): dict(g_channels=(512, 256, 128, 64), d_channels=(64, 128, 256, 512), encoder_channels=(64, 128, 256, 256),
                       full_resolution_channels=32, noise_inputs=True),
    ("full", 128): dict(g_channels=(512, 256, 128, 64, 32), d_channels=(32, 64, 128, 256, 512),
                        encoder_channels=(32, 64, 128, 256, 256)),
}
# reference at 64 px: quick's model with D's full-resolution start. In the reference recipe, one seed on a 2-core Zen 3
# (fp32), its validation KID was below the previous shipped model's run at 22 of its 23 checks, level at the other
# (0.019 at 575 against 0.022, both runs' best), and epoch 575's EMA scored 0.022 ± 0.006 on the test split against
# 0.029 ± 0.006 (benchmarks/README.md, twenty-first to twenty-third sessions); its epoch 650 0.020 ± 0.006, and with
# the dot-repeat penalty over its last 50 epochs (shipped now) 0.019 ± 0.005.
MODEL_WIDTHS[("reference", 64)] = dict(MODEL_WIDTHS[("quick", 64)], d_full_resolution_channels=16)
MODEL_WIDTHS[("reference", 128)] = MODEL_WIDTHS[("quick", 128)]


def model_config_for_size(size: int, preset_name: str = "quick", **overrides) -> ModelConfig:
    """The model of a preset (``MODEL_WIDTHS``) at 64 or 128 pixels."""
    if size not in (64, 128):
        raise ValueError(f"image_size must be 64 or 128, not {size}")
    widths = MODEL_WIDTHS[(preset_name, size)]
    return ModelConfig(image_size=size, **{**widths, **overrides}).check()


@dataclass(frozen=True)
class DiffusionModelConfig:
    """The VA-conditioned U-Net denoiser (models/unet.py)."""

    image_size: int = 64  # 64 or 128
    # Widths of the U-Net levels, from image_size / 2 down (the image enters as 2x2 patches, so no
    # feature map is ever held at full resolution); one more level at 128 px.
    channels: tuple = (32, 64, 128)
    blocks_per_level: int = 1  # residual blocks per level, on the way down and on the way up
    attention_resolution: int = 16  # self-attention on the level at this size (and in the middle)
    embedding_dim: int = 128  # the (time, valence, arousal) embedding every block reads

    @property
    def levels(self) -> int:
        return {64: 3, 128: 4}[self.image_size]

    def check(self) -> "DiffusionModelConfig":
        if self.image_size not in (64, 128):
            raise ValueError(f"image_size must be 64 or 128, not {self.image_size}")
        if len(self.channels) != self.levels:
            raise ValueError(f"channels needs {self.levels} widths for {self.image_size}px, got {self.channels}")
        sizes = [self.image_size // 2 ** (level + 1) for level in range(self.levels)]
        if self.attention_resolution not in sizes:
            raise ValueError(f"attention_resolution must be one of the level sizes {sizes}, not {self.attention_resolution}")
        if self.blocks_per_level < 1:
            raise ValueError(f"blocks_per_level must be at least 1, not {self.blocks_per_level}")
        return self


# U-Net widths per preset and size. quick at 64 px: 1.9 M parameters, 0.47 GFLOP per forward pass
# (torch's FlopCounterMode), so about 1.4 GFLOP per training image (forward + backward, about 3
# passes): the GAN's 1.5 (benchmarks/throughput.py). full: 20 M parameters, 7.7 GFLOP per pass.
DIFFUSION_WIDTHS = {
    ("ci", 64): dict(channels=(8, 16, 16), embedding_dim=32),
    ("ci", 128): dict(channels=(8, 8, 16, 16), embedding_dim=32),
    ("quick", 64): dict(channels=(32, 64, 128), embedding_dim=128),
    ("quick", 128): dict(channels=(16, 32, 64, 128), embedding_dim=128),
    ("full", 64): dict(channels=(128, 256, 256), blocks_per_level=2, embedding_dim=512),
    ("full", 128): dict(channels=(64, 128, 256, 256), blocks_per_level=2, embedding_dim=512),
}


def diffusion_model_config(size: int, preset_name: str = "quick", **overrides) -> DiffusionModelConfig:
    """The U-Net of a preset (``DIFFUSION_WIDTHS``; "reference" uses the quick model) at 64 or 128 pixels."""
    if size not in (64, 128):
        raise ValueError(f"image_size must be 64 or 128, not {size}")
    widths = DIFFUSION_WIDTHS[("quick" if preset_name == "reference" else preset_name, size)]
    return DiffusionModelConfig(image_size=size, **{**widths, **overrides}).check()


def to_dict(config) -> dict:
    return asdict(config)


def from_dict(cls, data: dict):
    """Rebuild a config dataclass from JSON, turning lists back into tuples."""
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown {cls.__name__} setting(s): {', '.join(sorted(unknown))}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**values)


@dataclass(frozen=True)
class DataConfig:
    images: str = ""  # folder of <id>.jpg; empty means the default procedural dataset
    labels: str = ""  # CSV image,valence,arousal
    valence_file: str = ""  # or CGnA10766's raw form: one rating per line
    arousal_file: str = ""
    size: int = 64
    # One seeded split (LabelledImages.split): validation chooses the best checkpoints,
    # the test part is only ever used to report.
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    split_seed: int = 0


@dataclass(frozen=True)
class VAETrainConfig:
    epochs: int = 600
    minutes: float = 0.0  # a wall-clock budget for the whole stage; 0: train ``epochs`` (training/budget.py)
    batch_size: int = 16
    learning_rate: float = 2e-4
    beta: float = 0.5  # weight of KL(q(z|x) || N(0, I)) against the summed squared error
    kl_warmup_fraction: float = 0.2  # beta ramps from 0 over this part of the run
    seed: int = 0
    device: str = "auto"
    grid_every: int = 10  # epochs between reconstruction grids
    precision: str = "auto"  # "auto": bf16 autocast on CUDA and on CPUs with native bf16; "bf16"; "fp32"


@dataclass(frozen=True)
class GANTrainConfig:
    epochs: int = 1000
    minutes: float = 0.0  # a wall-clock budget for the whole stage; 0: train ``epochs`` (training/budget.py)
    batch_size: int = 16
    # TTUR (Heusel et al. 2017): two time scales. The original gave D half G's rate (5e-5); measured
    # here, a D that slow never leaves chance against a warm-started G (notebook 03), so D learns 4x faster.
    g_learning_rate: float = 1e-4
    d_learning_rate: float = 4e-4
    adam_betas: tuple = (0.0, 0.99)
    # The original's clip of G's and D's gradient norms (not R1's step). The quick recipe without it (benchmarks/README.md,
    # ninth session) blew up within 450 steps for both seeds tried: D's gradient norm from about 8 to thousands and more,
    # ADA's p at its cap, and by epoch 10 G drew saturated flat colours, the same for every z and VA.
    grad_clip: float = 1.0
    # A cosine decay of both learning rates from lr_decay_start down to lr_floor times the base rates
    # (schedule.learning_rate_scale); lr_floor 1 keeps them constant, the default: the EMA already averages
    # the last weights. Measured at the full quick budget (benchmarks/results/ablations_full_budget.json):
    # with the decay from 75% to 0.1x D overfitted while the rates fell (ADA's p climbed from 0.2 to its 0.8
    # cap, r_t 0.68-0.69); constant, r_t stayed at its 0.6 target. Test-split KID: 0.056, 0.053 and 0.063
    # (seeds 0-2, constant) against 0.059 and 0.059 (seeds 0-1, decay): no difference at this N.
    lr_decay_start: float = 0.75
    lr_floor: float = 1.0
    precision: str = "auto"  # "auto": bf16 autocast on CUDA and on CPUs with native bf16; "bf16"; "fp32"
    recon_fraction: float = 0.03
    ramp_fraction: float = 0.03
    # LPIPS on a schedule, the original's (schedule.py); 0 leaves the term out. From lpips_start on, each step also
    # encodes the reals, runs G on their latents and AlexNet on both images: 1.55x the step's time at 64 px, batch
    # 32 (benchmarks/results/lpips_cost_intel_xeon_2026-12-05.json). quick and reference set 0 (below).
    lpips_weight: float = 0.005
    lpips_start: float = 0.2
    lpips_full: float = 0.5
    # R1 weight: StyleGAN2-ADA's heuristic 0.0002 * resolution^2 / batch is 0.05 at 64 px, batch 16;
    # the original's 5 smoothed D so much that it could not tell reals from fakes.
    r1_gamma: float = 0.1
    r1_interval: int = 16
    # The LeCam regulariser's weight in D's loss (losses.LeCamAnchors; Tseng et al. 2021 used 0.3 with BigGAN's hinge
    # loss on CIFAR-10); 0 leaves it out.
    lecam_weight: float = 0.0
    # G's penalty on fine detail that sits on the same pixels in different images (losses.dot_repeat_loss, logged as
    # dot_repeat whatever its weight; reals score about 0); 0 leaves it out. Measured (benchmarks/README.md,
    # twenty-sixth session): on all fine detail (contrast 0) from the start of a 30-epoch quick run (seed 0, paired
    # from one VAE), weights 1 and 10 cut the dark images' repeat ratio from 22 to 19 and 7, and the test KID rose from
    # 0.106 to 0.153 and 0.170, so quick leaves it out; on stars and snow only (contrast 0.3) over the last 50 of the
    # reference run's 650 epochs, weight 10 halved the repeats at an equal KID, so the reference preset has it there.
    dot_repeat_weight: float = 0.0
    dot_repeat_contrast: float = 0.0  # only detail this far above its 3x3 mean counts (0.3: stars and snow, not texture)
    dot_repeat_start: float = 0.0  # the share of training after which the penalty applies (as lpips_start)
    va_weight: float = 0.5
    # VA-head errors in units of the labels' spread (losses.va_loss): on [0, 1] a head that always
    # answers the mean already scores ~0.035, so at weight 0.5 the VA loss was too weak to steer G,
    # and a reference run learned valence backwards through the projection term.
    va_loss_normalised: bool = True
    g_va_weight: float = None  # G's VA-head loss weight; None: the same as va_weight (with or without projection)
    # G's two VA losses at half (g_va_weight 0.25, sensitivity 0.15) and at double their weights scored test-split
    # KID 0.077 and 0.074 (seed 0, full quick budget; ablations_full_budget.json) against 0.053-0.063 for the
    # default's three seeds: both worse, though within two KID spreads. So the defaults stay.
    va_sensitivity_weight: float = 0.3
    va_sensitivity_margin: float = 0.4
    # Warmed up as (1 + step) / (10 + step) (training/ema.py), which stays below 0.999 for the first 8,991 steps: a quick
    # run (3,700-4,800 steps at batch 32 in its 16 minutes on the 2-core Intel Xeon; 6,300 for all 126 epochs) never
    # reaches it, and its EMA averages about the last tenth of the run.
    ema_decay: float = 0.999
    ada: str = "auto"  # "auto" (on for sets under 5,000 images), "on" or "off"
    ada_target: float = 0.6
    ada_speed_images: int = 500_000
    ada_colour: bool = False  # colour augmentation erases VA cues; see augment.py
    ada_geometric: bool = False  # ADA's zoom and a small rotation as well (VA-safe); see augment.py
    xflip: bool = True  # mirror reals and fakes in D's path (a mirrored landscape keeps its VA); see augment.py
    seed: int = 0
    device: str = "auto"
    sample_every: int = 5  # epochs between sample grids
    checkpoint_every: int = 1  # epochs between resumable training states
    eval_every: int = 50  # epochs between quality scores (KID) that choose the "best" generator
    eval_fakes: int = 64
    eval_reals: int = 128
    stats_every: int = 50  # steps between stats.jsonl records


@dataclass(frozen=True)
class DiffusionTrainConfig:
    epochs: int = 1500  # the original's diffusion model trained about 1500 epochs
    minutes: float = 0.0  # a wall-clock budget for the whole stage; 0: train ``epochs`` (training/budget.py)
    batch_size: int = 32
    learning_rate: float = 3e-4
    adam_betas: tuple = (0.9, 0.99)
    grad_clip: float = 1.0
    lr_decay_start: float = 0.75  # cosine decay of the learning rate over the last quarter (schedule.learning_rate_scale)
    lr_floor: float = 0.1
    label_dropout: float = 0.1  # P(VA replaced by the learned "no VA" embedding): what classifier-free guidance needs
    # Flow times t ~ sigmoid(N(mean, std)), logit-normal (Esser et al. 2024, section 3.1): most
    # steps at middle t, where predicting the velocity is hardest.
    time_mean: float = 0.0
    time_std: float = 1.0
    ema_decay: float = 0.999
    xflip: bool = True  # a mirrored landscape keeps its valence and arousal
    precision: str = "auto"  # "auto": bf16 autocast on CUDA and on CPUs with native bf16; "bf16"; "fp32"
    seed: int = 0
    device: str = "auto"
    sample_every: int = 10  # epochs between sample grids
    sample_steps: int = 8  # Euler steps for the training sample grids (cheap; generation defaults to more)
    stats_every: int = 50  # steps between stats.jsonl records


# The presets: "full" is the original's schedule (for a GPU); "quick" fits VAE + GAN in under
# 20 minutes on 2 CPU cores; "ci" only proves that every piece runs.
PRESETS = {
    "full": {
        "vae": VAETrainConfig(),
        "gan": GANTrainConfig(),
        "diffusion": DiffusionTrainConfig(),
        "data_images": 2000,
    },
    "quick": {
        # 12 epochs, or fewer where they do not fit in 3 minutes (a Zen 5 trains them in about
        # one; a 2-core Zen 3 took 2.7 and, on a slower day, 4.2): with the GAN's 15, VAE + GAN took 18.0 min on that
        # slow day (7 VAE and 22 GAN epochs; benchmarks/results/quick_preset_amd_epyc_zen3.json).
        # A 40-epoch VAE instead (benchmarks/results/learning_rate_vae_40_epochs_intel_xeon_2026-12-05.json) gave the
        # same test KID after 95 GAN epochs (0.056) and, after 50, 0.083 / 0.084 against 0.099 / 0.073 (seeds 0 / 1).
        "vae": VAETrainConfig(epochs=12, minutes=3, batch_size=16, learning_rate=1e-3, beta=1.0, grid_every=4),
        # ADA's p may cross 0..1 in 20k images: a 150k-image run must be able to react (StyleGAN2-ADA: 500k of 25M).
        # 126 epochs, or fewer where they do not fit in 16 minutes (counting, since 2026-12-07, the whole stage: before, the
        # budgets counted steps only, and on a Zen 3 the GAN's probe, grids, KID checks and checkpoints added 1.1 min to
        # its 16 and VAE + GAN took 19.8 min). With 15 minutes and the probe alone
        # (before the budget re-fitted during the run), a 2-core Intel Xeon with AMX, phase 3 at 174-183 images/s, trained
        # all 126 in 18.6-19.7 min, and the budget fitted 112; on a slower day, at 157-170 images/s, it fitted 77 and 97,
        # and VAE + GAN took 15.4 and 17.1 min; a 2-core Zen 3 without bf16, 38-64 images/s at batch 16, would fit about
        # a quarter, by estimate. Now that the run ends within an epoch of its budget, 16 minutes leave the 20 a margin:
        # on a slow day for that Xeon (phase 3 at 145-155 images/s) VAE + GAN took 18.5-18.6 min with 87-92 epochs
        # (benchmarks/results/quick_preset_refit_run_{1,2}_intel_xeon_2026-12-05.json).
        # Batch 32 with G at 4e-4 and D at 8e-4: the batch-16 step runs 1.28x slower per image (paired, bf16, same Xeon),
        # so 126 epochs here cost what 98 at batch 16 do; from one VAE, test-split KID 0.053 and 0.051 (seeds 0, 1)
        # against batch 16's 0.056 and 0.062 after 95 epochs (G 2e-4, D 4e-4), FID 154 / 146 against 159 / 166
        # (benchmarks/results/learning_rate_batch_32_equal_time_intel_xeon_2026-12-05.json). At equal epochs batch 32
        # was worse (0.062-0.076 after 95). G's rate: 2e-4 at batch 16 beat 1e-4 by 0.026-0.040 (0.056 / 0.062 against
        # 0.082 / 0.102, learning_rate_intel_xeon_2026-12-05.json);
        # the reference preset kept batch 16 and 1e-4 until LeCam (below).
        # Then D at 1.2e-3, three times G's rate, beat 8e-4 for both seeds: test KID 0.051 and 0.044 against 0.053 and
        # 0.051, FID 156 / 142 against 154 / 146, and a lower validation KID at epochs 114 and 126 for both
        # (learning_rate_batch_32_d_rate_1.2e-3_intel_xeon_2026-12-05.json). These rates are near the edge: both at 1.5x
        # (G 6e-4, D 1.8e-3; 100 epochs, paired) diverged for seed 0 from step 525 (flat colours from epoch 20, KID 0.361)
        # and scored 0.067 against 0.059 for seed 1; at 1.25x (G 5e-4, D 1.5e-3) 0.061 / 0.057 against 0.056 / 0.059, no
        # gain (learning_rate_rates_1.25x_1.5x_intel_xeon_2026-12-06.json).
        # No LPIPS term: it would make 80% of the steps 1.55x slower, so a 16-minute run would hold about 30% fewer
        # epochs, and what it buys could not be measured (AlexNet's weights are a download, so every run on record
        # trained without it). With lpips_weight 0 the recipe is the measured one on every machine, online or not.
        # The LeCam term at 0.3 (losses.LeCamAnchors): paired from one VAE, 60 epochs, on a 2-core Intel Xeon without
        # native bf16 (family 6 model 207, fp32), test-split KID 0.057 and 0.079 (seeds 0, 1) against 0.075 and 0.083
        # without, FID 168 / 182 against 178 / 186, arousal Spearman 0.90 / 0.90 against 0.84 / 0.89; D's hinge 1.12-1.16
        # against 0.89-0.93, ADA's p up to 0.40-0.42 against 0.03-0.10. Seed 0 at 0.1 and at 1: KID 0.067 and 0.099
        # (at 1 D's hinge 1.66, near chance) (benchmarks/results/learning_rate_lecam_60_epochs_intel_xeon_2026-12-06.json).
        "gan": GANTrainConfig(epochs=126, minutes=16, batch_size=32, g_learning_rate=4e-4, d_learning_rate=1.2e-3,
                              lecam_weight=0.3, lpips_weight=0.0, ada_speed_images=20_000, sample_every=5, eval_every=19,
                              eval_fakes=64, eval_reals=128, stats_every=25),
        # The diffusion model gets the GAN's 16 minutes, so notebook 05 compares them at equal wall-clock time on
        # every machine; on the Zen 5 its 85 epochs took 14.4 min.
        "diffusion": DiffusionTrainConfig(epochs=85, minutes=16, sample_every=17, stats_every=25),
        "data_images": 2000,
    },
    # The quick recipe trained longer, with D's full-resolution start (MODEL_WIDTHS): the model shipped in
    # weights/reference/. The shipped one (from 2026-12-08): the last EMA of a 650-epoch run, on a 2-core AMD EPYC Zen 3
    # (fp32; VAE 8.1 min, GAN about 6.7 h in six sittings; epochs 600-650 with the dot-repeat penalty as an arm of
    # benchmarks/continue_run.py). Against the same run's epochs 600-650 without it (shipped from the night of
    # 2026-12-07): validation KID 0.0179 against 0.0180 (paired, 1,000 fakes each, lower on 56% of the subsets: a tie),
    # test KID 0.019 ± 0.005 against 0.020 ± 0.006, FID 106 against 106, V 0.97, A 0.91 (ceilings 0.93 / 0.81); its
    # dark images' dots 50% on one phase and 10x chance repeats against 79% and 19x (real 26%, 0.8x), 6.3 dots per
    # image against 9.8 (real 9.0) (benchmarks/results/reference_dot_repeat_amd_epyc_zen3_2026-12-08.json). Epoch 650
    # without the penalty had been chosen over epoch 575 (0.0180 against 0.0192 on validation; test 0.022 ± 0.006, FID 109)
    # (benchmarks/results/reference_epoch_650_paired_validation_amd_epyc_zen3_2026-12-07.json,
    # reference_d_full_resolution_epoch_575_amd_epyc_zen3_2026-12-07.json). Before them, with D's
    # space-to-depth start: all 600 epochs, epoch 575's EMA, 0.029 ± 0.006, FID 116, V 0.98, A 0.92 (2-core Intel Xeon,
    # fp32; benchmarks/results/reference_quick_recipe_lecam_intel_xeon_207_2026-12-06.json).
    "reference": {
        "vae": VAETrainConfig(epochs=40, batch_size=16, learning_rate=1e-3, beta=1.0, grid_every=10),
        # Quick's recipe with the LeCam term (batch 32, G 4e-4, D 1.2e-3, LeCam 0.3). Without LeCam the same recipe
        # stalled: validation KID 0.031-0.037 from epoch 275 to 600, test KID 0.046 (best by validation, epoch 325) and
        # 0.042 (epoch 600) (reference_quick_recipe_600_epochs_intel_xeon_2026-12-05.json, another Xeon, bf16); with it
        # the validation KID went on falling, 0.030 at 325 to 0.026 at 450 and 0.022 at 575, ahead of that run at every
        # check from 150 on. The model shipped before (batch 16, G 1e-4, D 4e-4, 550 epochs, no LeCam; 118 min on a
        # Zen 5) scored 0.034 ± 0.007, FID 125, V 0.94, A 0.91. G at 2e-4 with that recipe (300 epochs) scored 0.044.
        # No LPIPS term, as in quick: every reference run on record trained without it (no AlexNet weights offline).
        # The dot-repeat penalty on stars and snow over the last 50 epochs, as the shipped model was trained (above).
        "gan": GANTrainConfig(epochs=650, batch_size=32, g_learning_rate=4e-4, d_learning_rate=1.2e-3, lecam_weight=0.3,
                              lpips_weight=0.0, ada_speed_images=200_000, sample_every=10, eval_every=25,
                              eval_fakes=128, eval_reals=256, stats_every=50,
                              dot_repeat_weight=10.0, dot_repeat_contrast=0.3, dot_repeat_start=600 / 650),
        "diffusion": DiffusionTrainConfig(epochs=200, sample_every=20, stats_every=50),
        "data_images": 2000,
    },
    "ci": {
        "vae": VAETrainConfig(epochs=2, batch_size=16, learning_rate=1e-3, grid_every=1),
        "gan": GANTrainConfig(epochs=2, lecam_weight=0.3, ada_speed_images=2_000, sample_every=1, eval_every=1,
                              eval_fakes=8, eval_reals=8, stats_every=2),
        "diffusion": DiffusionTrainConfig(epochs=2, batch_size=16, sample_every=1, sample_steps=2, stats_every=2),
        "data_images": 96,
    },
}


def preset(name: str, part: str, **overrides):
    """The ``part`` ("vae", "gan" or "diffusion") config of a preset, with overrides (None values ignored).

    Asking for ``epochs`` turns the preset's time budget (``minutes``) off unless ``minutes`` is given
    too: ``epochs=10`` means 10 epochs on any machine."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if "epochs" in overrides and hasattr(PRESETS[name][part], "minutes"):
        overrides.setdefault("minutes", 0.0)
    return replace(PRESETS[name][part], **overrides)
