"""SummaryWriter: TensorBoard event files written without tensorboard or protobuf."""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
import weakref
from datetime import datetime

from flambeau.utils.tensorboard import _proto, _summary

_FILE_IDS = itertools.count()


class _EventFile:
    """One event file: framed events queue in memory and reach the disk every ``max_queue``
    events, every ``flush_secs`` seconds (a daemon thread) and at :meth:`flush`/:meth:`close`.
    """

    def __init__(self, log_dir, max_queue, flush_secs, filename_suffix):
        self.log_dir = log_dir
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_FILE_IDS)}{filename_suffix}")
        self.path = os.path.join(log_dir, name)
        try:
            os.makedirs(log_dir, exist_ok=True)
            self._file = open(self.path, "wb")  # noqa: SIM115 - open until close()
        except OSError as e:  # same class, so `except PermissionError` still works
            raise type(e)(e.errno, f"SummaryWriter: cannot create an event file in log_dir "
                                   f"{log_dir!r} ({e.strerror})", e.filename) from e
        self._queue = []
        self._lock = threading.Lock()
        self._max_queue = max(int(max_queue), 1)
        self._closed = threading.Event()
        self._thread = None
        self.add_event({"wall_time": time.time(), "file_version": "brain.Event:2",
                        "source_metadata": {"writer": "flambeau.utils.tensorboard"}})
        self.flush()
        if flush_secs and flush_secs > 0:
            self._thread = threading.Thread(target=self._flush_every, args=(flush_secs,),
                                            daemon=True, name="flambeau-tensorboard-flush")
            self._thread.start()

    def _flush_every(self, secs):
        while not self._closed.wait(secs):
            try:
                self.flush()
            except OSError:  # a full disk: the events stay queued, and the caller's next
                pass  # flush or close raises the error where it can be handled

    def add_event(self, event):
        record = _proto.frame(_proto.encode("Event", event))
        with self._lock:
            if self._file is None:
                raise RuntimeError(f"SummaryWriter: the event file {self.path} is closed")
            self._queue.append(record)
            full = len(self._queue) >= self._max_queue
        if full:
            self.flush()

    def _write_queue(self):
        """Write the queued records (the lock held): whole records, in order."""
        if self._queue:
            self._file.write(b"".join(self._queue))
            self._queue.clear()
        self._file.flush()

    def flush(self):
        with self._lock:
            if self._file is not None:
                self._write_queue()

    def close(self):
        self._closed.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()  # not under the lock: a flush in progress needs it
        with self._lock:
            if self._file is None:
                return
            # the last write and the close under one lock: an event added meanwhile is
            # either written or refused, never queued on a closed file
            try:
                self._write_queue()
            finally:
                self._file.close()
                self._file = None


def _close_all(writers):
    for writer in list(writers.values()):
        writer.close()


def _default_log_dir(comment):
    stamp = datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")


class SummaryWriter:
    """Write scalars, histograms, images, text and hyperparameters for TensorBoard.

    PyTorch's ``torch.utils.tensorboard.SummaryWriter``, writing the same event files
    (TFRecords of ``Event`` protocol buffers) without tensorboard or protobuf installed;
    ``tensorboard --logdir runs`` reads them. Images need Pillow; figures need matplotlib.

    Parameters
    ----------
    log_dir : str, optional
        The folder of the event files; default ``runs/<month><day>_<H-M-S>_<host><comment>``.
    comment : str, optional
        Appended to the default ``log_dir`` (ignored when ``log_dir`` is given).
    purge_step : int, optional
        After a crash, the step to resume from: TensorBoard hides the events of this run
        whose step is at or after it.
    max_queue : int, optional
        Events kept in memory before they are written (default 10).
    flush_secs : float, optional
        Pending events are written at least this often (default 120 s).
    filename_suffix : str, optional
        Appended to the event file's name.

    Examples
    --------
    >>> import tempfile
    >>> import flambeau
    >>> from flambeau.utils.tensorboard import SummaryWriter
    >>> log_dir = tempfile.mkdtemp()
    >>> with SummaryWriter(log_dir) as writer:
    ...     for step in range(3):
    ...         writer.add_scalar("loss", 1.0 / (step + 1), step)
    ...     writer.add_histogram("weights", flambeau.linspace(-1, 1, 50), 2)
    ...     writer.add_text("note", "first run")
    >>> writer.get_logdir() == log_dir
    True
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10,
                 flush_secs=120, filename_suffix=""):
        self.log_dir = _default_log_dir(comment) if not log_dir else str(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = None
        self.all_writers = None
        self._finalizer = None
        self._open_lock = threading.Lock()  # two threads must not open the same run twice
        self._get_file_writer()

    def _get_file_writer(self):
        """The main event file, opened again after :meth:`close`."""
        if self.file_writer is not None:
            return self.file_writer
        with self._open_lock:
            if self.file_writer is not None:
                return self.file_writer
            file_writer = _EventFile(self.log_dir, self.max_queue, self.flush_secs,
                                     self.filename_suffix)
            self.all_writers = {self.log_dir: file_writer}
            # every event file of the writer (add_scalars' runs too) is flushed and closed
            # when the writer is collected or, at the latest, at interpreter exit
            self._finalizer = weakref.finalize(self, _close_all, self.all_writers)
            if self.purge_step is not None:
                step, now = int(self.purge_step), time.time()
                file_writer.add_event({"wall_time": now, "step": step,
                                       "file_version": "brain.Event:2"})
                file_writer.add_event({"wall_time": now, "step": step,
                                       "session_log": {"status": 1}})  # START
                self.purge_step = None
            self.file_writer = file_writer  # last: other threads add after the purge events
        return file_writer

    def get_logdir(self):
        """The folder the event files are written to."""
        return self.log_dir

    def _add(self, summary, global_step, walltime, writer=None):
        event = {"wall_time": time.time() if walltime is None else float(walltime),
                 "summary": summary}
        if global_step is not None:
            event["step"] = int(global_step)
        (writer or self._get_file_writer()).add_event(event)

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """Log one number (a Python number or a one-element Tensor) under ``tag``.

        ``new_style=True`` writes it as a tensor of the ``scalars`` plugin (float64 with
        ``double_precision``), as PyTorch does.

        Examples
        --------
        >>> import tempfile
        >>> from flambeau.utils.tensorboard import SummaryWriter
        >>> with SummaryWriter(tempfile.mkdtemp()) as w:
        ...     w.add_scalar("accuracy", 0.75, global_step=10)
        """
        value = _summary.scalar("add_scalar", tag, scalar_value, new_style, double_precision)
        self._add({"value": [value]}, global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several numbers under one chart: each goes to its own run,
        ``<log_dir>/<main_tag>_<key>``, tagged ``main_tag``.

        Examples
        --------
        >>> import os, tempfile
        >>> from flambeau.utils.tensorboard import SummaryWriter
        >>> with SummaryWriter(tempfile.mkdtemp()) as w:
        ...     w.add_scalars("loss", {"train": 0.5, "val": 0.7}, 1)
        ...     sorted(os.listdir(w.get_logdir()))[1:]
        ['loss_train', 'loss_val']
        """
        walltime = time.time() if walltime is None else walltime
        self._get_file_writer()
        writers = self.all_writers
        for tag, value in tag_scalar_dict.items():
            run = self.log_dir + "/" + main_tag.replace("/", "_") + "_" + tag
            writer = writers.get(run)
            if writer is None:
                with self._open_lock:
                    writer = writers.get(run)
                    if writer is None:
                        writer = writers[run] = _EventFile(run, self.max_queue,
                                                           self.flush_secs,
                                                           self.filename_suffix)
            self._add({"value": [_summary.scalar("add_scalars", main_tag, value)]},
                      global_step, walltime, writer)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        """Log the distribution of ``values`` (any shape) as a histogram.

        ``bins`` is ``"tensorflow"`` (TensorFlow's exponential buckets) or anything
        :func:`numpy.histogram` takes; ``max_bins`` merges neighbouring buckets down to at
        most that many.

        Examples
        --------
        >>> import tempfile
        >>> import flambeau
        >>> from flambeau.utils.tensorboard import SummaryWriter
        >>> with SummaryWriter(tempfile.mkdtemp()) as w:
        ...     w.add_histogram("activations", flambeau.randn(1000), 0, bins=30)
        """
        value = _summary.histogram("add_histogram", tag, values, bins, max_bins)
        self._add({"value": [value]}, global_step, walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits,  # noqa: A002
                          bucket_counts, global_step=None, walltime=None):
        """Log a histogram already computed: its statistics, bucket right edges and counts.

        Examples
        --------
        >>> import tempfile
        >>> from flambeau.utils.tensorboard import SummaryWriter
        >>> with SummaryWriter(tempfile.mkdtemp()) as w:
        ...     w.add_histogram_raw("h", min=0, max=2, num=3, sum=3, sum_squares=5,
        ...                         bucket_limits=[0, 1, 2], bucket_counts=[0, 2, 1])
        """
        value = _summary.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits,
                                       bucket_counts)
        self._add({"value": [value]}, global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """Log an image, a PNG of ``img_tensor`` in layout ``dataformats`` (``"CHW"``,
        ``"HWC"`` or ``"HW"``).

        A uint8 image is taken as it is; any other dtype holds values in ``[0, 1]``. One
        channel is shown as grey, 4 as RGBA. Needs Pillow (the examples of the image methods
        are skipped by the doctests, which also run where Pillow is not installed).

        Examples
        --------
        >>> import tempfile
        >>> import flambeau
        >>> from flambeau.utils.tensorboard import SummaryWriter
        >>> with SummaryWriter(tempfile.mkdtemp()) as w:
        ...     w.add_image("noise", flambeau.rand(3, 16, 16), 0)  # doctest: +SKIP
        """
        self._add({"value": [_summary.image("add_image", tag, img_tensor, dataformats)]},
                  global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None,
                   dataformats="NCHW"):
        """Log a batch of images (``"NCHW"`` or ``"NHWC"``) tiled into one, 8 per row.

        Examples
        --------
        >>> import tempfile
        >>> import flambeau
        >>> from flambeau.utils.tensorboard import SummaryWriter
        >>> with SummaryWriter(tempfile.mkdtemp()) as w:
        ...     w.add_images("batch", flambeau.rand(10, 1, 8, 8), 0)  # doctest: +SKIP
        """
        self._add({"value": [_summary.image("add_images", tag, img_tensor, dataformats)]},
                  global_step, walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """Log a matplotlib figure (or a list of them, tiled) as an image; closes it unless
        ``close=False``. Needs matplotlib.

        Examples
        --------
        >>> import tempfile
        >>> import matplotlib.pyplot as plt  # doctest: +SKIP
        >>> from flambeau.utils.tensorboard import SummaryWriter
        >>> fig = plt.figure(figsize=(2, 2))  # doctest: +SKIP
        >>> _ = plt.plot([0, 1], [1, 0])  # doctest: +SKIP
        >>> with SummaryWriter(tempfile.mkdtemp()) as w:
        ...     w.add_figure("line", fig, 0)  # doctest: +SKIP
        """
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ImportError("add_figure draws the figure with matplotlib, which is not "
                              "installed: pip install matplotlib") from None
        import numpy as np

        if isinstance(figure, (list, tuple)):
            images = np.stack([_summary.figure_to_chw(f, close) for f in figure])
            self.add_images(tag, images, global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, _summary.figure_to_chw(figure, close), global_step, walltime,
                           dataformats="CHW")

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Log a string (Markdown) under ``tag``, shown by TensorBoard's text plugin.

        Examples
        --------
        >>> import tempfile
        >>> from flambeau.utils.tensorboard import SummaryWriter
        >>> with SummaryWriter(tempfile.mkdtemp()) as w:
        ...     w.add_text("config", "lr = **0.1**", 0)
        """
        if not isinstance(text_string, str):
            raise TypeError(f"add_text: text_string must be a str, got "
                            f"{type(text_string).__name__}")
        self._add({"value": [_summary.text(tag, text_string)]}, global_step, walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None,
                    run_name=None, global_step=None):
        """Log one trial's hyperparameters and its metrics for TensorBoard's HPARAMS tab.

        They go to a run of their own, ``<log_dir>/<run_name>`` (default: the current time),
        with each metric logged there as a scalar.

        Parameters
        ----------
        hparam_dict : dict
            Name -> int, float, str, bool or one-element Tensor.
        metric_dict : dict
            Metric name -> number.
        hparam_domain_discrete : dict, optional
            Name -> the list of values that hyperparameter can take.
        run_name : str, optional
        global_step : int, optional

        Examples
        --------
        >>> import tempfile
        >>> from flambeau.utils.tensorboard import SummaryWriter
        >>> with SummaryWriter(tempfile.mkdtemp()) as w:
        ...     w.add_hparams({"lr": 0.1, "optimizer": "sgd"}, {"accuracy": 0.9},
        ...                   run_name="trial0")
        """
        summaries = _summary.hparams("add_hparams", hparam_dict, metric_dict,
                                     hparam_domain_discrete)
        run_name = str(time.time()) if not run_name else run_name
        log_dir = os.path.join(self._get_file_writer().log_dir, run_name)
        with SummaryWriter(log_dir=log_dir) as w_hp:
            for summary in summaries:
                w_hp._add(summary, global_step, None)
            for name, value in metric_dict.items():
                w_hp.add_scalar(name, value, global_step)

    def _not_implemented(self, name):
        raise NotImplementedError(
            f"SummaryWriter.{name} is not implemented in flambeau: only scalars, histograms, "
            "images, figures, text and hparams are written")

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Not implemented: flambeau has no tracer to draw a model's graph with."""
        self._not_implemented("add_graph")

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """Not implemented."""
        self._not_implemented("add_audio")

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None):
        """Not implemented."""
        self._not_implemented("add_video")

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None,
                      tag="default", metadata_header=None):
        """Not implemented."""
        self._not_implemented("add_embedding")

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127,
                     weights=None, walltime=None):
        """Not implemented."""
        self._not_implemented("add_pr_curve")

    def add_mesh(self, tag, vertices, colors=None, faces=None, config_dict=None,
                 global_step=None, walltime=None):
        """Not implemented."""
        self._not_implemented("add_mesh")

    def flush(self):
        """Write the pending events of every event file of this writer to disk."""
        for writer in list((self.all_writers or {}).values()):
            writer.flush()

    def close(self):
        """Flush and close the event files; a later ``add_*`` opens a new one."""
        with self._open_lock:
            finalizer, self._finalizer = self._finalizer, None
            self.file_writer = self.all_writers = None
        if finalizer is not None:
            finalizer()  # closes each event file once, and unregisters the exit hook

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()
