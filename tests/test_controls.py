"""Artist's controls (colour, blends, masks, style scale), coarse-to-fine and memory checks.

Small images (64-96 px) and a few iterations: these check behaviour, not quality.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import nst_helpers as nh
from nst_helpers import cli, controls, memory, optimise
from nst_helpers.images import fit_long_side, resize

SIZE = 64


@pytest.fixture(scope="module")
def content():
    return nh.load_sample("chelsea", SIZE)  # 43 x 64


@pytest.fixture(scope="module")
def swirl():
    return nh.load_sample("swirl", SIZE)


@pytest.fixture(scope="module")
def mosaic():
    return nh.load_sample("mosaic", SIZE)


@pytest.fixture(autouse=True)
def no_memory_limit(monkeypatch):
    monkeypatch.delenv("NST_MEMORY_LIMIT", raising=False)


# --------------------------------------------------------------------------------------
# Colour preservation
# --------------------------------------------------------------------------------------
def test_yiq_round_trip_and_grey_luminance(content):
    assert np.allclose(nh.yiq_to_rgb(nh.rgb_to_yiq(content)), content, atol=1e-5)
    grey = controls.luminance(content)
    assert grey.shape == content.shape and np.allclose(grey[..., 0], grey[..., 2])
    yiq = nh.rgb_to_yiq(grey)
    assert np.abs(yiq[..., 1:]).max() < 1e-5  # a grey image has no chroma


def test_luminance_only_keeps_the_content_chroma(content):
    seen = []
    result = nh.stylize(content, "swirl", size=SIZE, iterations=3, progress=False, preserve_color="luminance",
                        callback=lambda info: seen.append(info.image) and False)
    out, original = nh.rgb_to_yiq(result.image), nh.rgb_to_yiq(content)
    assert result.image.shape == content.shape
    assert np.abs(out[..., 1:] - original[..., 1:]).mean() < 0.005
    assert np.abs(out[..., 1:] - original[..., 1:]).max() < 0.05  # only where clipping to RGB bites
    assert np.abs(out[..., 0] - original[..., 0]).mean() > 0.005  # while the luminance was stylised
    # the callback (a live preview) sees colour images too, not the grey optimisation variable
    preview = nh.rgb_to_yiq(seen[-1])
    assert np.abs(preview[..., 1:] - original[..., 1:]).mean() < 0.005
    assert result.settings["preserve_color"] == "luminance"


def test_luminance_mode_optimises_grey_images_with_matched_luminance(content, swirl):
    grey, styles, init, finish = controls.prepare_colour(content, [swirl], "content", "luminance")
    assert np.allclose(grey[..., 0], grey[..., 1]) and np.allclose(styles[0][..., 0], styles[0][..., 2])
    ys, yc = styles[0][..., 0], grey[..., 0]
    assert abs(ys.mean() - yc.mean()) < 0.02 and abs(ys.std() - yc.std()) < 0.02
    recombined = finish(grey)  # the content's own luminance + its chroma = the content
    assert np.abs(recombined - content).max() < 0.01


def test_match_color_gives_the_style_the_content_mean_and_covariance(content, swirl):
    rng = np.random.default_rng(0)
    # in-gamut synthetic pair: exact match (no clipping)
    mixing = np.array([[1, .3, 0], [0, 1, .2], [0, 0, 1]])
    style = (0.5 + 0.1 * rng.standard_normal((40, 40, 3)) @ mixing).clip(0, 1)
    target = (0.4 + 0.08 * rng.standard_normal((30, 50, 3))).clip(0, 1).astype(np.float32)
    matched = nh.match_color(style.astype(np.float32), target)
    (m1, c1), (m2, c2) = nh.color_stats(matched), nh.color_stats(target)
    assert np.allclose(m1, m2, atol=1e-4) and np.allclose(c1, c2, atol=1e-4)
    # real images: equal up to clipping to the RGB cube
    matched = nh.match_color(swirl, content)
    (m1, c1), (m2, c2) = nh.color_stats(matched), nh.color_stats(content)
    assert np.abs(m1 - m2).max() < 0.02 and np.abs(c1 - c2).max() < 0.005
    assert np.abs(nh.color_stats(swirl)[0] - m2).max() > 0.1  # it did change
    _, styles, _, finish = controls.prepare_colour(content, [swirl, None], "content", "match")
    assert np.allclose(styles[0], matched) and styles[1] is None and finish(content) is content


def test_bad_preserve_color_names_the_choices(content):
    with pytest.raises(nh.OptionError, match="luminance"):
        nh.stylize(content, "swirl", size=SIZE, iterations=1, progress=False, preserve_color="colour")


# --------------------------------------------------------------------------------------
# Several styles
# --------------------------------------------------------------------------------------
def test_blend_weights_change_the_target_grams_linearly(content, swirl, mosaic):
    grams = {}
    for w in (0.0, 0.3, 1.0):
        objective = nh.StyleObjective(content, [swirl, mosaic], style_weights=[w, 1 - w])
        grams[w] = {name: t.numpy() for name, t in objective.style_targets.items()}
    for name in grams[0.3]:
        expected = 0.3 * grams[1.0][name] + 0.7 * grams[0.0][name]
        assert np.allclose(grams[0.3][name], expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    assert objective.style_masks is None  # no mask: plain Gram matrices of the blended target
    assert all(t.sqrt_mask is None for t in objective.loss_terms["style"].targets)


def test_blend_weights_are_proportions(content, swirl, mosaic):
    a = nh.StyleObjective(content, [swirl, mosaic], style_weights=[7, 3]).style_targets
    b = nh.StyleObjective(content, [swirl, mosaic], style_weights=[0.7, 0.3]).style_targets
    assert all(np.allclose(a[n], b[n]) for n in a)
    with pytest.raises(nh.OptionError, match="style_weights"):
        nh.StyleObjective(content, [swirl, mosaic], style_weights=[1.0])


# --------------------------------------------------------------------------------------
# Spatial control
# --------------------------------------------------------------------------------------
def test_mask_from_rectangle_pixels_fractions_and_bounds():
    m = nh.mask_from_rectangle((10, 20), 2, 5, 3, 4)
    assert m.shape == (10, 20) and m.dtype == np.float32 and m.sum() == 12 and m[2, 5] == 1 and m[5, 5] == 0
    top = nh.mask_from_rectangle(np.zeros((10, 20, 3)), 0, 0, 0.5, 1.0)
    assert top[:5].min() == 1 and top[5:].max() == 0
    assert nh.mask_from_rectangle((10, 20), 8, 15, 100, 100).sum() == 2 * 5  # clipped to the image
    soft = nh.mask_from_rectangle((40, 40), 0, 0, 20, 40, feather=3)
    assert 0 <= soft.min() and soft.max() <= 1 and 0.05 < soft[20, 20] < 0.95  # soft edge
    assert soft[2, 20] > 0.99 and soft[38, 20] < 0.01


def test_mask_from_color_and_soften(content):
    image = np.zeros((8, 8, 3), np.float32)
    image[:4] = [0.53, 0.81, 0.92]  # sky blue on top
    for color in ((0.53, 0.81, 0.92), (135, 207, 235), "#87ceeb"):
        mask = nh.mask_from_color(image, color, tolerance=0.05)
        assert mask[:4].min() == 1 and mask[4:].max() == 0
    assert nh.mask_from_color(image, (1, 1, 1), tolerance=2.0).min() == 1  # everything
    soft = nh.soften_mask(nh.mask_from_color(image, "#87ceeb", 0.05), 1.0)
    assert 0 < soft[4, 4] < 1 and soft.shape == (8, 8)
    with pytest.raises(nh.OptionError):
        nh.mask_from_color(image, "blue")


def test_layer_masks_match_the_feature_map_sizes():
    image = np.random.default_rng(0).uniform(size=(67, 101, 3)).astype(np.float32)
    layers = list(nh.STYLE_LAYERS) + ["block3_pool"]
    features = nh.build_extractor(layers)(image[None])
    masks = controls.layer_masks(np.ones((67, 101), np.float32), layers)
    for name in layers:
        assert masks[name].shape == tuple(features[name].shape[1:3]), name
    half = controls.layer_masks(nh.mask_from_rectangle((64, 64), 0, 0, 32, 64),
                                ["block3_conv1"])["block3_conv1"]
    assert half.shape == (16, 16) and half[:8].min() == 1 and half[8:].max() == 0


def test_guided_gram_of_a_full_mask_is_the_gram_matrix():
    features = tf.random.stateless_uniform((1, 6, 5, 4), seed=(1, 2))
    full = controls.guided_gram_matrix(features, np.ones((6, 5), np.float32))
    assert np.allclose(full, nh.gram_matrix(features), atol=1e-6)
    top = np.zeros((6, 5), np.float32)
    top[:3] = 1
    assert np.allclose(controls.guided_gram_matrix(features, top), nh.gram_matrix(features[:, :3]), atol=1e-6)
    with pytest.raises(nh.OptionError, match="zero everywhere"):
        controls.guided_gram_matrix(features, np.zeros((6, 5), np.float32))


def test_masked_style_loss_ignores_pixels_outside_the_mask():
    """A region's style statistics do not depend on pixels outside its mask: the gradient there is 0."""
    rng = np.random.default_rng(0)
    content, style = (rng.uniform(size=(64, 64, 3)).astype(np.float32) for _ in range(2))
    top = nh.mask_from_rectangle((64, 64), 0, 0, 32, 64)
    layers = ["block1_conv1", "block2_conv1"]  # receptive field 10 px: keep a margin
    objective = nh.StyleObjective(content, [style], style_layers=layers, style_masks=[top],
                                  content_weight=0.0, tv_weight=0.0)
    image = tf.constant(rng.uniform(size=(1, 64, 64, 3)).astype(np.float32))
    terms, grad = objective.value_and_grad(image)
    grad = np.abs(grad.numpy()[0]).sum(axis=-1)
    assert float(terms["style"]) > 0 and grad[:20].max() > 0
    assert grad[44:].max() == 0.0


def test_a_zero_mask_contributes_nothing_and_ones_is_the_plain_loss(content, swirl, mosaic):
    image = tf.constant(np.clip(content + 0.1, 0, 1)[None])
    top = nh.mask_from_rectangle(content, 0, 0, 0.5, 1.0)
    zeros = np.zeros(content.shape[:2], np.float32)
    alone = nh.StyleObjective(content, [swirl], style_masks=[top]).terms(image)
    with_zero = nh.StyleObjective(content, [swirl, mosaic], style_masks=[top, zeros]).terms(image)
    assert np.isclose(float(alone["style"]), float(with_zero["style"]), rtol=1e-5)
    plain = nh.StyleObjective(content, [swirl]).terms(image)
    ones = nh.StyleObjective(content, [swirl],
                             style_masks=[np.ones(content.shape[:2], np.float32)]).terms(image)
    assert np.isclose(float(plain["style"]), float(ones["style"]), rtol=1e-5)
    nothing = nh.StyleObjective(content, [swirl], style_masks=[zeros]).terms(image)
    assert float(nothing["style"]) == 0.0 and np.isfinite(float(nothing["total"]))


def test_prepare_masks_rest_none_styles_and_errors(content, swirl, mosaic):
    top = nh.mask_from_rectangle(content, 0, 0, 0.5, 1.0)
    styles, masks, weights = controls.prepare_masks([swirl, mosaic], [top, None], content.shape[:2],
                                                    [2.0, 1.0])
    assert len(masks) == 2 and np.allclose(masks[0] + masks[1], 1) and weights == [2.0, 1.0]
    styles, masks, weights = controls.prepare_masks([swirl, None], [top, None], content.shape[:2], [2.0, 1.0])
    assert len(styles) == 1 and np.array_equal(masks[0], top) and weights == [2.0]
    small = controls.prepare_masks([swirl], [resize(np.repeat(top[..., None], 3, -1), 22, 32)],
                                   content.shape[:2])[1]
    assert small[0].shape == content.shape[:2]
    with pytest.raises(nh.OptionError, match="one mask per style"):
        controls.prepare_masks([swirl, mosaic], [top], content.shape[:2])
    with pytest.raises(nh.OptionError, match="aspect"):
        controls.prepare_masks([swirl], [np.ones((50, 50), np.float32)], content.shape[:2])
    with pytest.raises(nh.OptionError, match="only together with style_masks"):
        controls.prepare_masks([swirl, None], None, content.shape[:2])
    with pytest.raises(nh.ImageError, match=r"\[0, 1\]"):
        controls.prepare_masks([swirl], [top * 2], content.shape[:2])


def test_stylize_with_masks_styles_only_the_masked_region(content):
    top = nh.mask_from_rectangle(content, 0, 0, 0.5, 1.0)
    # shallow style layers: at 64 px the receptive field of block5 spans the whole picture
    result = nh.stylize(content, ["swirl", None], style_masks=[top, None], size=SIZE, iterations=4,
                        progress=False, tv_weight=0.0, init="content",  # the change from the photo
                        style_layers=["block1_conv1", "block2_conv1", "block3_conv1"])
    change = np.abs(result.image - content).mean(axis=-1)
    h = content.shape[0]
    assert change[: h // 2 - 4].mean() > 4 * change[h // 2 + 4:].mean()
    assert len(result.settings["style_masks"]) == 2  # as given: a mask and the rest


# --------------------------------------------------------------------------------------
# Style scale and coarse-to-fine
# --------------------------------------------------------------------------------------
class _Spy:
    """Records what stylize hands to StyleObjective and to the optimiser at each stage."""

    def __init__(self, monkeypatch):
        self.styles, self.inits, self.bests, self.contents = [], [], [], []
        spy = self
        real_objective, real_lbfgs = optimise.StyleObjective, optimise.OPTIMIZERS["lbfgs"]

        class Objective(real_objective):
            def __init__(self, content, styles, **kwargs):
                spy.styles.append([s.shape for s in styles])
                spy.contents.append(content.shape)
                super().__init__(content, styles, **kwargs)

        def lbfgs(objective, init, iterations, tracker, **kwargs):
            spy.inits.append(init.copy())
            try:
                real_lbfgs(objective, init, iterations, tracker, **kwargs)
            finally:
                spy.bests.append(tracker.best_image)

        monkeypatch.setattr(optimise, "StyleObjective", Objective)
        monkeypatch.setitem(optimise.OPTIMIZERS, "lbfgs", lbfgs)


def test_style_scale_resizes_the_style_image(monkeypatch, content):
    spy = _Spy(monkeypatch)
    for scale in (0.5, 1.0, 2.0):
        nh.stylize(content, "mosaic", size=SIZE, iterations=1, style_scale=scale, progress=False)
    assert [max(shapes[0][:2]) for shapes in spy.styles] == [32, 64, 128]
    with pytest.raises(nh.OptionError, match="style_scale"):
        nh.stylize(content, "mosaic", size=SIZE, iterations=1, style_scale=0, progress=False)


def test_the_default_run_is_20_iterations_from_the_photo_in_the_paintings_colours(monkeypatch, content):
    spy = _Spy(monkeypatch)
    result = nh.stylize(content, "swirl", size=48, progress=False)  # every other option at its default
    assert result.iterations == 20 and result.settings.init == "palette"
    photo, painting = resize(content, 32, 48), nh.images.resize_long_side(nh.load_image("swirl"), 48)
    np.testing.assert_allclose(spy.inits[0], optimise.make_init("palette", photo, [painting], 0), atol=1e-6)
    assert np.abs(spy.inits[0] - photo).mean() > 0.05  # not the photo: it starts in the painting's colours


def test_auto_stages():
    assert optimise.auto_stages(384) == [384]
    assert optimise.auto_stages(512) == [512]
    assert optimise.auto_stages(1024) == [512, 1024]
    assert optimise.auto_stages(2048) == [512, 1024, 2048]
    assert optimise.auto_stages(1500) == [375, 750, 1500]


def test_coarse_to_fine_starts_each_stage_from_the_previous_one(monkeypatch, content):
    spy = _Spy(monkeypatch)
    result = nh.stylize(content, "swirl", size=96, stages=[48, 96], iterations=[3, 2], init="content",
                        progress=False)
    assert [max(s[:2]) for s in spy.contents] == [48, 96]
    assert result.image.shape == (64, 96, 3) and result.iterations == 5
    assert [row["stage"] for row in result.history] == [0, 0, 0, 1, 1]
    assert np.allclose(spy.inits[0], resize(content, 32, 48), atol=1e-6)  # stage 0 starts from the content
    # then from the upsampled result
    assert np.allclose(spy.inits[1], resize(spy.bests[0], 64, 96), atol=1e-6)
    with pytest.raises(nh.OptionError, match="stages"):
        nh.stylize(content, "swirl", size=96, stages=[48, 64], progress=False)
    with pytest.raises(nh.OptionError, match="one per stage"):
        nh.stylize(content, "swirl", size=96, stages=[48, 96], iterations=[3], progress=False)


# --------------------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------------------
def test_memory_estimate_is_monotone_and_depends_on_layers_optimizer_precision():
    layers = list(nh.CONTENT_LAYERS) + list(nh.STYLE_LAYERS)
    for optimizer in ("lbfgs", "adam"):
        sizes = [64, 128, 256, 512, 1024, 2048, 4096]
        estimates = [nh.estimate_peak_bytes(round(s * 2 / 3), s, layers, optimizer) for s in sizes]
        assert all(a < b for a, b in zip(estimates, estimates[1:]))
    big = dict(height=1365, width=2048)
    default = nh.estimate_peak_bytes(**big, layers=layers)
    assert nh.estimate_peak_bytes(**big, layers=["block1_conv1"]) < default
    assert nh.estimate_peak_bytes(**big, layers=layers, optimizer="adam") < default
    assert nh.estimate_peak_bytes(**big, layers=layers, precision="bfloat16") < nh.estimate_peak_bytes(
        **big, layers=layers)
    # activations: exact count for a tiny case (input + conv1_1 + conv1_2 + pool1 + conv2_1)
    expected = 4 * 6 * 3 + 2 * 4 * 6 * 64 + 2 * 3 * 64 + 2 * 3 * 128
    assert memory.activation_values(4, 6, ["block2_conv1"]) == expected


def test_memory_budget_error_says_what_is_needed_and_what_to_do(monkeypatch, content):
    monkeypatch.setenv("NST_MEMORY_LIMIT", str(2 * memory.GIB))
    with pytest.raises(nh.MemoryBudgetError) as caught:
        nh.stylize(content, "swirl", size=2048, iterations=1, progress=False)
    message = str(caught.value)
    assert "needs about" in message and "2.0 GiB is available" in message
    assert "--size" in message and "layers" in message and "tiles" in message
    assert isinstance(caught.value, MemoryError) and isinstance(caught.value, nh.NSTError)
    fits = int(message.split("--size ")[1].split()[0])  # the size it suggests does fit
    layers = list(nh.CONTENT_LAYERS) + list(nh.STYLE_LAYERS)
    stage = fit_long_side(*content.shape[:2], 2048)
    assert nh.estimate_peak_bytes(*fit_long_side(*stage, fits), layers) <= 2 * memory.GIB
    assert nh.estimate_peak_bytes(*fit_long_side(*stage, fits + 1), layers) > 2 * memory.GIB
    monkeypatch.setenv("NST_MEMORY_LIMIT", "off")
    # check disabled: returns the estimate
    assert nh.check_memory(20000, 20000, ["block5_conv4"]) > 2 * memory.GIB
    monkeypatch.setenv("NST_MEMORY_LIMIT", "lots")
    with pytest.raises(nh.OptionError, match="NST_MEMORY_LIMIT"):
        nh.check_memory(64, 64, ["block1_conv1"])


def test_largest_size_that_fits_is_the_largest():
    layers = list(nh.CONTENT_LAYERS) + list(nh.STYLE_LAYERS)
    budget = 4 * memory.GIB
    for height, width in [(300, 451), (1362, 2048), (40, 30)]:  # smaller and larger than the answer
        size = memory.largest_size_that_fits(height, width, layers, "lbfgs", budget)
        assert nh.estimate_peak_bytes(*fit_long_side(height, width, size), layers) <= budget
        assert nh.estimate_peak_bytes(*fit_long_side(height, width, size + 1), layers) > budget
    assert memory.largest_size_that_fits(300, 451, layers, "lbfgs", 1000) == 0


def test_available_memory_without_psutil_reads_proc():
    proc = memory._proc_available()
    if proc is None:
        pytest.skip("no /proc/meminfo on this system")
    psutil = pytest.importorskip("psutil")
    expected = psutil.virtual_memory().available + psutil.Process().memory_info().rss
    assert abs(proc - expected) < 0.1 * expected


def test_check_memory_with_an_explicit_budget():
    layers = ["block5_conv2"]
    need = nh.estimate_peak_bytes(512, 512, layers)
    assert nh.check_memory(512, 512, layers, available=need) == need
    with pytest.raises(nh.MemoryBudgetError, match="adam"):
        nh.check_memory(512, 512, layers, available=need - 1)


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------
def test_cli_parses_the_control_options():
    args = cli.build_parser().parse_args(
        ["stylize", "c.png", "--style", "a.png", "b.png", "--style-weights", "0.7", "0.3", "--preserve-color",
         "match", "--style-masks", "m.png", "rest", "--style-scale", "1.5", "--stages", "256", "512",
         "--iterations", "10", "5"])
    assert args.style_option == ["a.png", "b.png"] and args.style_weights == [0.7, 0.3]
    assert args.preserve_color == "match" and args.style_masks == ["m.png", "rest"]
    assert args.style_scale == 1.5 and args.stages == [256, 512] and args.iterations == [10, 5]
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["stylize", "--preserve-color", "grey"])


def test_cli_runs_controls_end_to_end(tmp_path, content, capsys):
    nh.save_image(content, tmp_path / "c.png")
    top = nh.mask_from_rectangle(content, 0, 0, 0.5, 1.0)
    nh.save_image(np.repeat(top[..., None], 3, -1), tmp_path / "top.png")
    out = tmp_path / "out.png"
    code = cli.main(["stylize", str(tmp_path / "c.png"), "--style", "swirl", "mosaic", "--style-masks",
                     str(tmp_path / "top.png"), "rest", "--preserve-color", "luminance", "--stages", "48",
                     "64", "--iterations", "2", "1", "-q", "-o", str(out)])
    assert code == 0 and nh.load_image(out).shape == content.shape
    assert "after 3 iterations" in capsys.readouterr().out


def test_cli_reports_a_memory_budget_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NST_MEMORY_LIMIT", "1e9")
    code = cli.main(["stylize", "chelsea", "swirl", "--size", "2048", "-q", "-o", str(tmp_path / "x.png")])
    assert code == 2 and "needs about" in capsys.readouterr().err and not (tmp_path / "x.png").exists()
