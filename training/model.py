"""The CRNN recognizer: CNN features -> BiLSTM sequence model -> per-step softmax for CTC.

Input: (32, W, 1) grayscale line, ink ~1 on paper ~0, any width W (a multiple of 4).
Output: (W/4, len(alphabet) + 1) probabilities, the last class being the CTC blank.
Two 2x2 pools then three (2,1) pools keep W/4 time steps (32 steps for a 128-px word, about
4 per printed character), enough for CTC to emit doubled letters with a blank in between.
Only stock Keras layers, so `keras.models.load_model` needs no custom objects.
"""

from __future__ import annotations

import keras
from keras import layers


def build_crnn(num_classes: int, name: str = "crnn") -> keras.Model:
    """num_classes = len(alphabet) + 1 (blank)."""
    image = keras.Input(shape=(32, None, 1), name="image")
    x = image
    for filters, pool, dropout in [(32, (2, 2), 0.0), (64, (2, 2), 0.0), (128, (2, 1), 0.1),
                                   (128, (2, 1), 0.1), (256, (2, 1), 0.2)]:
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(pool_size=pool, strides=pool)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    x = layers.Reshape((-1, 256), name="to_sequence")(x)  # (1, W/4, 256) -> (W/4, 256)
    x = layers.Bidirectional(layers.LSTM(128, return_sequences=True, dropout=0.2))(x)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True, dropout=0.2))(x)
    # float32 head even under mixed precision: CTC's log(probs + 1e-8) underflows in float16
    logits = layers.Dense(num_classes, name="logits", dtype="float32")(x)
    probs = layers.Softmax(name="probs", dtype="float32")(logits)
    return keras.Model(image, probs, name=name)
