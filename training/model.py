"""The CRNN recognizer: CNN features -> BiLSTM sequence model -> per-step softmax for CTC.

Input: (32, W, 1) grayscale line, ink ~1 on paper ~0, any width W (a multiple of 4).
Output: (W/4, len(alphabet) + 1) probabilities, the last class being the CTC blank.
Two 2x2 pools then three (2,1) pools keep W/4 time steps (32 steps for a 128-px word, about
4 per printed character), enough for CTC to emit doubled letters with a blank in between.
Only stock Keras layers, so `keras.models.load_model` needs no custom objects.

Architectures are named (`ARCHS`) and the name is stored in the manifest: `base` (1.1M
parameters, the printed model) and `wide` (two 256-unit BiLSTMs, 3.3M, for real handwriting,
whose long cursive context the small LSTMs could not hold). Both share the CNN, so a `wide`
model can start from a `base` model's convolutions (`transfer_weights`).
"""

from __future__ import annotations

import keras
from keras import layers

from ocr_core.vocabulary import LINE_HEIGHT

CNN = [(32, (2, 2), 0.0), (64, (2, 2), 0.0), (128, (2, 1), 0.1), (128, (2, 1), 0.1), (256, (2, 1), 0.2)]
ARCHS: dict[str, tuple[int, ...]] = {"base": (128, 64), "wide": (256, 256)}  # BiLSTM units per layer


def build_crnn(num_classes: int, name: str = "crnn", arch: str = "base") -> keras.Model:
    """num_classes = len(alphabet) + 1 (blank)."""
    image = keras.Input(shape=(LINE_HEIGHT, None, 1), name="image")
    x = image
    for filters, pool, dropout in CNN:
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


def arch_of(model: keras.Model) -> str:
    """The ARCHS name whose BiLSTM sizes this model has."""
    units = tuple(layer.forward_layer.units for layer in model.layers if isinstance(layer, layers.Bidirectional))
    return next(name for name, u in ARCHS.items() if u == units)


def transfer_weights(src: keras.Model, dst: keras.Model) -> list[str]:
    """Copy weights layer by layer (in order) wherever the shapes match; returns the copied layers."""
    copied = []
    for a, b in zip(src.layers, dst.layers):
        wa, wb = a.get_weights(), b.get_weights()
        if wa and len(wa) == len(wb) and all(x.shape == y.shape for x, y in zip(wa, wb)):
            b.set_weights(wa)
            copied.append(b.name)
    return copied
