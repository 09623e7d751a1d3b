"""The CRNN recognizer: CNN features -> BiLSTM sequence model -> per-step softmax for CTC.

Input: (32, W, 1) grayscale line, ink ~1 on paper ~0, any width W (a multiple of 4).
Output: (W/4, len(alphabet) + 1) probabilities, the last class being the CTC blank.
Two 2x2 pools then three (2,1) pools keep W/4 time steps (32 steps for a 128-px word, about
4 per printed character), enough for CTC to emit doubled letters with a blank in between.
Only stock Keras layers, so `keras.models.load_model` needs no custom objects.

Architectures are named (`ARCHS`) and the name is stored in the manifest: `base` (1.1M
parameters, the printed model) and `wide` (two 256-unit BiLSTMs, 3.3M, for real handwriting,
whose long cursive context the small LSTMs could not hold). Both share the CNN, so a `wide`
model can start from a `base` model: its CNN copied, its BiLSTMs embedded (`transfer_weights`).
`tall` is `wide` fed 64-px lines: a full-resolution stem conv averaged down to the 32-px grid the
CNN knows, and one width halving fewer, so twice the time steps (still one per WIDTH_STEP input
columns). At 32 px a real cursive line got ~2 steps per character (median on htr-real; 45% of
lines fewer), and the wide model read its own training lines at 14% CER: it lacked resolution.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from ocr_core.vocabulary import LINE_HEIGHT

CNN = [(32, (2, 2), 0.0), (64, (2, 2), 0.0), (128, (2, 1), 0.1), (128, (2, 1), 0.1), (256, (2, 1), 0.2)]
ARCHS: dict[str, tuple[int, ...]] = {"base": (128, 64), "wide": (256, 256), "tall": (256, 256)}  # BiLSTM units
TALL_STEM = 16  # filters of the tall arch's full-resolution conv


def input_height(arch: str) -> int:
    """The line height an arch reads (the engine reads it back from the manifest's input_shape)."""
    return 2 * LINE_HEIGHT if arch == "tall" else LINE_HEIGHT


def build_crnn(num_classes: int, name: str = "crnn", arch: str = "base") -> keras.Model:
    """num_classes = len(alphabet) + 1 (blank)."""
    image = keras.Input(shape=(input_height(arch), None, 1), name="image")
    x = image
    cnn = CNN
    if arch == "tall":  # 64 px down to the CNN's 32-px grid, then one width halving fewer
        x = layers.Conv2D(TALL_STEM, 3, padding="same", activation="relu", name="stem")(x)
        x = layers.AveragePooling2D((2, 2), name="stem_pool")(x)
        cnn = [CNN[0], (CNN[1][0], (2, 1), CNN[1][2]), *CNN[2:]]
    for filters, pool, dropout in cnn:
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(pool_size=pool, strides=pool)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    x = layers.Reshape((-1, CNN[-1][0]), name="to_sequence")(x)  # (1, W/4, 256) -> (W/4, 256)
    for units in ARCHS[arch]:
        x = layers.Bidirectional(layers.LSTM(units, return_sequences=True, dropout=0.2))(x)
    # float32 head even under mixed precision: CTC's log(probs + 1e-8) underflows in float16
    logits = layers.Dense(num_classes, name="logits", dtype="float32")(x)
    probs = layers.Softmax(name="probs", dtype="float32")(logits)
    return keras.Model(image, probs, name=name)


def fold_into_average(average: keras.Model, model: keras.Model, members: int) -> None:
    """Make `average` (the mean of `members - 1` models) the mean of `members`, `model` included.

    Every variable is averaged, batch-norm statistics too: the models are the ends of consecutive
    epochs of one low-learning-rate run, close enough that their mean statistics fit their mean
    weights (checkpoint averaging, as in Vaswani et al. 2017 and SWA, Izmailov et al. 2018).
    """
    average.set_weights([a + (w - a) / members for a, w in zip(average.get_weights(), model.get_weights())])


def arch_of(model: keras.Model) -> str:
    """The ARCHS name whose stem and BiLSTM sizes this model has."""
    if any(layer.name == "stem" for layer in model.layers):
        return "tall"
    units = tuple(layer.forward_layer.units for layer in model.layers if isinstance(layer, layers.Bidirectional))
    return next(name for name, u in ARCHS.items() if u == units)


def transfer_weights(src: keras.Model, dst: keras.Model) -> list[str]:
    """Copy weights layer by layer (in order); returns the layers copied or widened.

    Equal shapes are copied. A wider BiLSTM (and the layer after it) gets the narrower one's weights
    embedded (`_widen`), so a `wide` model starts out reading exactly as the `base` model it came
    from and training only has to put its new units to use (Net2Net's idea, Chen et al. 2016).
    """
    copied = []
    dst_layers = dst.layers
    if arch_of(dst) == "tall" and arch_of(src) != "tall":
        copied.append(_pass_through_stem(dst))
        dst_layers = [layer for layer in dst.layers if not layer.name.startswith("stem")]
    src_in = dst_in = 0  # BiLSTM units feeding the current layer (0: the CNN's features, same in both)
    for a, b in zip(src.layers, dst_layers):
        wa, wb = a.get_weights(), b.get_weights()
        if not wa or len(wa) != len(wb):
            continue
        if isinstance(a, layers.Conv2D) and wa[0].shape[2] < wb[0].shape[2]:  # the conv after a stem
            kernel = np.zeros_like(wb[0])
            kernel[:, :, : wa[0].shape[2]] = wa[0]  # reads the stem's pass-through channel as it read the image
            b.set_weights([kernel, *wa[1:]])
            copied.append(b.name)
        elif all(x.shape == y.shape for x, y in zip(wa, wb)):
            b.set_weights(wa)
            copied.append(b.name)
        elif isinstance(a, (layers.Bidirectional, layers.Dense)):
            b.set_weights(_widen(wa, wb, src_in, dst_in, lstm=isinstance(a, layers.Bidirectional)))
            copied.append(b.name)
        if isinstance(a, layers.Bidirectional):
            src_in, dst_in = a.forward_layer.units, b.forward_layer.units
    return copied


def _pass_through_stem(model: keras.Model) -> str:
    """The stem's first filter copies the image (its other filters keep their fresh weights and are
    read with zero weight at first), so the stem's average pooling hands the CNN the line at 32 px
    high, as a 32-px model saw it; only the lost width halving changes what the CNN sees."""
    stem = model.get_layer("stem")
    kernel, bias = stem.get_weights()
    kernel[:, :, :, 0] = 0.0
    kernel[1, 1, 0, 0] = 1.0
    bias[0] = 0.0
    stem.set_weights([kernel, bias])
    return stem.name


def _widen(src: list, dst: list, src_in: int, dst_in: int, lstm: bool) -> list:
    """The src weights embedded in dst's (fresh) ones, the old units' outputs unchanged.

    Inputs: a BiLSTM's output is [forward units, backward units], so the old input rows sit at
    0.. and dst_in..; the old units' weights from new inputs are zeroed. Outputs: an LSTM's gate
    columns are [i, f, c, o] blocks of `units`; the old units take the first columns of each block,
    new units keep their fresh weights (they read everything, and the layer after ignores them
    until training gives them weight). A Dense layer (no gates) just gets its old input rows.
    """
    def rows(old_rows: int) -> list[int]:  # where each old input row goes in the wider input
        if not src_in or src_in == dst_in:
            return list(range(old_rows))
        return list(range(src_in)) + list(range(dst_in, dst_in + src_in))

    out = [w.copy() for w in dst]
    per_direction = len(src) // 2 if lstm else len(src)
    for d in range(len(src) // per_direction):
        for k in range(per_direction):
            i = d * per_direction + k
            s, o = src[i], out[i]
            if not lstm:  # Dense: kernel (inputs, classes), bias (classes)
                if s.ndim == 2:
                    o[:] = 0.0
                    o[rows(s.shape[0])] = s
                else:
                    o[:] = s
                continue
            u_src, u_dst = s.shape[-1] // 4, o.shape[-1] // 4
            cols_src = [g * u_src + j for g in range(4) for j in range(u_src)]
            cols_dst = [g * u_dst + j for g in range(4) for j in range(u_src)]
            if s.ndim == 1:  # bias
                o[cols_dst] = s[cols_src]
                continue
            in_rows = list(range(s.shape[0])) if k == 1 else rows(s.shape[0])  # k == 1: recurrent kernel
            block = np.zeros((o.shape[0], len(cols_dst)), dtype=o.dtype)
            block[in_rows] = s[:, cols_src]
            o[:, cols_dst] = block
    return out
