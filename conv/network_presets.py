"""The lecture notes' networks and exercises, as data, with the notes' printed slips corrected.

:data:`PRESETS` maps a key (used in the URL, ``?preset=lenet5``) to a :class:`Preset`: a
:class:`~conv.network.Network` with where it comes from and what the notes got wrong. The notes'
cost examples for :mod:`conv.comparisons` are here too, with their corrections.
"""

from __future__ import annotations

from dataclasses import dataclass

from conv.network import Layer, Network, avgpool, conv, fc, flatten, maxpool, softmax


@dataclass(frozen=True)
class Preset:
    """A named network from the lecture notes, with what the notes got wrong.

    Attributes
    ----------
    key : str
        Used in the URL (``?preset=lenet5``).
    title : str
    network : Network
    description : str
        Where it comes from and the choices made in reconstructing it.
    seed_notes : tuple of str
        The notes' printed numbers that are wrong, with the right ones.
    kind : {"network", "example"}
        A whole network or one of the notes' exercises.
    dense_example : (h, w, c_in, c_out, f) or None
        Arguments of :func:`conv.comparisons.dense_vs_conv` for an exercise that compares with a
        dense layer.
    """

    key: str
    title: str
    network: Network
    description: str
    seed_notes: tuple[str, ...] = ()
    kind: str = "network"
    dense_example: tuple[int, int, int, int, int] | None = None


def _vgg16() -> tuple[Layer, ...]:
    layers: list[Layer] = []
    for block, (filters, repeat) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), 1):
        for i in range(1, repeat + 1):
            layers.append(conv(3, filters, p=1, name=f"CONV{block}_{i}"))
        layers.append(maxpool(2, 2, name=f"POOL{block}"))
    layers += [fc(4096, name="FC6"), fc(4096, name="FC7"), softmax(1000, name="FC8+Softmax")]
    return tuple(layers)


_PRESET_LIST = (
    Preset(
        "lenet5",
        "LeNet-5",
        Network(
            (32, 32, 3),
            (
                conv(5, 6, name="CONV1"),
                avgpool(2, 2, name="POOL1"),
                conv(5, 16, name="CONV2"),
                avgpool(2, 2, name="POOL2"),
                fc(120, name="FC3"),
                fc(84, name="FC4"),
                softmax(10, name="Softmax"),
            ),
        ),
        "LeNet-5 as in the notes' analysis table (Andrew Ng's version, 32x32x3 input): "
        "CONV f=5 s=1 x6, POOL 2/2, CONV f=5 s=1 x16, POOL 2/2, FC 120, FC 84, softmax 10 "
        "(a 10-unit layer with its own weights, 850 parameters, as the table counts it).",
        (
            (
                "The note prints CONV1's shape as (8, 20, 6) with 4707 activations: it is "
                "(32 + 2*0 - 5) / 1 + 1 = 28, so 28x28x6 = 4,704."
            ),
            "The note prints 48210 parameters for FC3: it is (400 + 1) * 120 = 48,120.",
            "The note prints the softmax's activation size as 16: it has 10 units.",
        ),
    ),
    Preset(
        "mnist",
        "MNIST CNN (notes' table)",
        Network(
            (28, 28, 1),
            (
                conv(5, 10, name="Conv1"),
                maxpool(2, name="Pool1"),
                conv(5, 20, name="Conv2"),
                maxpool(2, name="Pool2"),
                fc(100, name="FC1"),
                softmax(10, name="Softmax"),
            ),
        ),
        "The notes' MNIST summary table: 28x28x1, conv 5x5 x10, pool 2, conv 5x5 x20, pool 2, "
        "FC 100, softmax 10 (with weights): 8,910 neurons and 38,390 parameters.",
    ),
    Preset(
        "harley",
        "Harley's network (notes' table, corrected)",
        Network(
            (32, 32, 1),
            (
                conv(5, 6, name="Conv1"),
                maxpool(2, name="MaxPool1"),
                conv(5, 16, name="Conv2"),
                maxpool(2, name="MaxPool2"),
                fc(120, name="FC1"),
                fc(100, name="FC2"),
                softmax(10, name="Softmax"),
            ),
        ),
        "The network of A. Harley's interactive node-link visualization as tabulated in the notes: "
        "32x32x1, conv 5x5 x6, max pool 2, conv 5x5 x16, max pool 2, FC 120, FC 100, softmax 10.",
        (
            (
                "The note gives the second MaxPool 128 channels and 3200 neurons: pooling keeps the "
                "16 channels, so 5x5x16 = 400."
            ),
            "Hence FC1 has (400 + 1) * 120 = 48,120 parameters, not 384,120 (= (3200 + 1) * 120).",
            "The note's totals 10,910 neurons and 399,802 parameters become 8,110 and 63,802.",
        ),
    ),
    Preset(
        "alexnet",
        "AlexNet",
        Network(
            (227, 227, 3),
            (
                conv(11, 96, s=4, name="CONV1"),
                maxpool(3, 2, name="POOL1"),
                conv(5, 256, p=2, name="CONV2"),
                maxpool(3, 2, name="POOL2"),
                conv(3, 384, p=1, name="CONV3"),
                conv(3, 384, p=1, name="CONV4"),
                conv(3, 256, p=1, name="CONV5"),
                maxpool(3, 2, name="POOL5"),
                fc(4096, name="FC6"),
                fc(4096, name="FC7"),
                softmax(1000, name="FC8+Softmax"),
            ),
        ),
        "AlexNet as usually taught (one tower, 227x227x3 input so that (227 - 11)/4 + 1 = 55 is "
        'exact): 62,378,344 parameters, "about 60 million" in the notes. The paper\'s two GPU '
        "towers and its grouped conv2/conv4/conv5 are not modelled (grouping would give "
        "60,965,224).",
    ),
    Preset(
        "alexnet_half",
        "AlexNet, one GPU's half (coursework)",
        Network(
            (227, 227, 3),
            (
                conv(11, 48, s=4, name="Conv1"),
                maxpool(3, 2, name="MaxPool1"),
                conv(5, 128, p=2, name="Conv2"),
                maxpool(3, 2, name="MaxPool2"),
                conv(3, 192, p=1, name="Conv3"),
                conv(3, 192, p=1, name="Conv4"),
                conv(3, 128, p=1, name="Conv5"),
                maxpool(3, 2, name="MaxPool3"),
                fc(2048, name="FC1"),
                fc(2048, name="FC2"),
                softmax(1000, name="Softmax"),
            ),
        ),
        "The notes' coursework table filled in: one GPU's half of AlexNet (Krizhevsky et al. "
        "2012, fig. 2) as a chain of its own. The OCR shifted the f/p/s columns; they are "
        "reconstructed from the paper: conv1 11x11 stride 4 (48 filters), overlapping max pools "
        "3/2, conv2 5x5 p2 (128), conv3 and conv4 3x3 p1 (192), conv5 3x3 p1 (128). The FC "
        "layers have 2048 units, half of the paper's 4096 and the figure's '2048' on the "
        "coursework slide; the table's printed '1600' does not match either and is not used. "
        "Simplification: in the paper conv3 and the FC layers also read the other GPU's maps.",
        (
            (
                "The coursework table's f/p/s cells are shifted by the OCR (e.g. conv2 '6 2 1', "
                "last pool '4 0 3'); the layers here follow the AlexNet paper."
            ),
            "The table prints 1600 units for FC1 and FC2; one GPU's half of AlexNet has 2048.",
        ),
    ),
    Preset(
        "vgg16",
        "VGG-16",
        Network((224, 224, 3), _vgg16()),
        "VGG-16 (configuration D, Simonyan & Zisserman 2014): 13 conv 3x3 p1 layers in five "
        "blocks, each ended by a 2x2 max pool, then FC 4096, FC 4096, FC 1000 + softmax: "
        "138,357,544 parameters (the notes' '138 MM'), most of them in FC6.",
    ),
    Preset(
        "ng_simple",
        "Simple CNN (39x39x3 -> 1960)",
        Network(
            (39, 39, 3),
            (
                conv(3, 10),
                conv(5, 20, s=2),
                conv(5, 40, s=2),
                flatten(),
                softmax(1),
            ),
        ),
        "The notes' 'CNN for image classification' example: 39x39x3, conv f=3 s=1 x10 -> "
        "37x37x10, conv f=5 s=2 x20 -> 17x17x20, conv f=5 s=2 x40 -> 7x7x40, flattened to "
        "1,960 values feeding one logistic/softmax unit.",
        kind="example",
    ),
    Preset(
        "ex_280",
        "Exercise: 10 filters 3x3x3",
        Network((39, 39, 3), (conv(3, 10),)),
        "How many parameters does a layer with 10 filters of 3x3x3 have? "
        "((3*3*3) + 1) * 10 = 280, whatever the image size (here the 39x39x3 example).",
        kind="example",
    ),
    Preset(
        "ex_4900",
        "Exercise: 100 filters 4x4x3",
        Network((32, 32, 3), (conv(4, 100),)),
        "100 filters of 4x4x3, each with a bias: 100 * (4*4*3 + 1) = 4,900 parameters, "
        "independent of the input size (here 32x32x3).",
        kind="example",
    ),
    Preset(
        "ex_fc_vs_conv",
        "Exercise: 3x32x32 -> 100x32x32",
        Network((32, 32, 3), (conv(3, 100, p=1),)),
        "From (3, 32, 32) to (100, 32, 32): a 3x3 convolution with padding 1 and stride 1 needs "
        "((3*3*3) + 1) * 100 = 2,800 parameters; a fully connected layer needs "
        "3072 * 102400 = 314,572,800 weights plus 102,400 biases (see the comparison below).",
        ("The note computes ((3 x 3 x 3) + 1) x 100 = 1000: it is 28 x 100 = 2,800.",),
        kind="example",
        dense_example=(32, 32, 3, 100, 3),
    ),
    Preset(
        "ex_48x48",
        "Exercise: 50x50x10, 25 filters 3x3x10",
        Network((50, 50, 10), (conv(3, 25),)),
        "An input of 50x50 with 10 channels, 25 filters of 3x3x10, stride 1, no padding: "
        "(50 + 2*0 - 3) / 1 + 1 = 48, so 48x48x25.",
        kind="example",
    ),
    Preset(
        "ex_5x5_s2",
        "Exercise: n=5, p=1, f=3, s=2",
        Network((5, 5, 1), (conv(3, 1, p=1, s=2),)),
        "The notes' stride example: (5 + 2*1 - 3) / 2 + 1 = 3, a 3x3 output.",
        kind="example",
    ),
)

PRESETS: dict[str, Preset] = {p.key: p for p in _PRESET_LIST}
DEFAULT_PRESET = "lenet5"

# The notes' cost examples (arguments of :mod:`conv.comparisons`' functions), shown by the page's
# comparison section.
SEPARABLE_EXAMPLE = dict(h_out=4, w_out=4, f=3, c_in=3, c_out=5)
SEPARABLE_SEED_NOTES = (
    (
        "The note prints the depthwise cost as '43^2' and the pointwise cost as '290': they are "
        "4*4*3 * 3*3 = 432 and 4*4*5 * 3 = 240 (432 + 240 = 672, as the note's total says)."
    ),
    (
        "The note gives the ratio as 1/n_c + 1/f^3: it is 1/n_c + 1/f^2 = 1/5 + 1/9 = 14/45 "
        "(672 / 2,160)."
    ),
)
BOTTLENECK_EXAMPLE = dict(h=28, w=28, c_in=192, c_mid=16, c_out=32, f=5)
