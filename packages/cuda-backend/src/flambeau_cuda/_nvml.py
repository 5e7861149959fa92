"""NVML's live readings of a GPU (``flambeau.cuda.utilization``, ``temperature``,
``power_draw``, ``clock_rate``, ``list_gpu_processes``), through nvidia-ml-py's ``pynvml``.

NVML numbers GPUs its own way (all of them, in PCI order), CUDA as ``CUDA_VISIBLE_DEVICES``
and ``CUDA_DEVICE_ORDER`` say; a CUDA device is found in NVML by its PCI address, which both
agree on.
"""

from __future__ import annotations

import threading

__all__ = ["NVML_HINT", "load", "handle", "pci_bus_id", "utilization", "temperature",
           "power_draw", "clock_rate", "list_gpu_processes"]

NVML_HINT = "pip install flambeau-cuda[nvml] (nvidia-ml-py)"

_lock = threading.Lock()
_started: list = []  # the pynvml module once nvmlInit has run


def load():
    """``pynvml``, initialised once; a ModuleNotFoundError names the extra to install.

    Examples
    --------
    >>> from flambeau_cuda import _nvml
    >>> try:
    ...     ok = _nvml.load().__name__ == "pynvml"
    ... except ModuleNotFoundError as exc:
    ...     ok = "flambeau-cuda[nvml]" in str(exc)
    ... except Exception:  # pynvml is there but finds no driver
    ...     ok = True
    >>> ok
    True
    """
    if _started:
        return _started[0]
    try:
        import pynvml
    except ImportError as exc:
        raise ModuleNotFoundError(f"NVML's readings need nvidia-ml-py: {NVML_HINT} ({exc})") \
            from exc
    with _lock:
        if not _started:
            pynvml.nvmlInit()
            _started.append(pynvml)
    return pynvml


def pci_bus_id(props: dict) -> bytes:
    """NVML's PCI address (``b"00000000:1B:00.0"``) of a device from CUDA's properties.

    Examples
    --------
    >>> from flambeau_cuda._nvml import pci_bus_id
    >>> pci_bus_id({"pciDomainID": 0, "pciBusID": 27, "pciDeviceID": 0})
    b'00000000:1B:00.0'
    """
    return (f"{int(props['pciDomainID']):08X}:{int(props['pciBusID']):02X}:"
            f"{int(props['pciDeviceID']):02X}.0").encode()


def handle(cupy, index: int):
    """NVML's handle of CUDA device ``index``.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._nvml import handle
    >>> handle(cupy, 0)  # doctest: +SKIP
    <pynvml.LP_struct_c_nvmlDevice_t object at ...>
    """
    pynvml = load()
    props = cupy.cuda.runtime.getDeviceProperties(index)
    return pynvml.nvmlDeviceGetHandleByPciBusId(pci_bus_id(props))


def utilization(cupy, index: int) -> int:
    """Percent of the last sample period in which a kernel ran on the GPU.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._nvml import utilization
    >>> 0 <= utilization(cupy, 0) <= 100  # doctest: +SKIP
    True
    """
    return int(load().nvmlDeviceGetUtilizationRates(handle(cupy, index)).gpu)


def temperature(cupy, index: int) -> int:
    """The GPU's temperature in degrees Celsius.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._nvml import temperature
    >>> temperature(cupy, 0) > 0  # doctest: +SKIP
    True
    """
    pynvml = load()
    return int(pynvml.nvmlDeviceGetTemperature(handle(cupy, index), pynvml.NVML_TEMPERATURE_GPU))


def power_draw(cupy, index: int) -> int:
    """The board's power draw in milliwatts.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._nvml import power_draw
    >>> power_draw(cupy, 0) > 0  # doctest: +SKIP
    True
    """
    return int(load().nvmlDeviceGetPowerUsage(handle(cupy, index)))


def clock_rate(cupy, index: int) -> int:
    """The streaming multiprocessors' clock in MHz.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._nvml import clock_rate
    >>> clock_rate(cupy, 0) > 0  # doctest: +SKIP
    True
    """
    pynvml = load()
    return int(pynvml.nvmlDeviceGetClockInfo(handle(cupy, index), pynvml.NVML_CLOCK_SM))


def list_gpu_processes(cupy, index: int) -> str:
    """The processes using the GPU and their memory, one line each.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._nvml import list_gpu_processes
    >>> print(list_gpu_processes(cupy, 0))  # doctest: +SKIP
    GPU:0
    process      12345 uses      512.000 MB GPU memory
    """
    try:
        pynvml = load()
    except ModuleNotFoundError:
        return f"NVML's readings need nvidia-ml-py: {NVML_HINT}"
    lines = [f"GPU:{index}"]
    procs = pynvml.nvmlDeviceGetComputeRunningProcesses(handle(cupy, index))
    for p in procs:
        used = p.usedGpuMemory  # None where the driver does not say (e.g. in a container)
        amount = "an unknown amount of" if used is None else f"{used / 2**20:>12.3f} MB"
        lines.append(f"process {p.pid:>10d} uses {amount} GPU memory")
    if not procs:
        lines.append("no processes are running")
    return "\n".join(lines)
