"""flambeau: PyTorch's tensor and autograd API on NumPy (CPU) and CuPy (CUDA).

Examples
--------
>>> import flambeau
>>> x = flambeau.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x ** 2).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.])
"""

# One namespace over several distributions (flambeau-nn, flambeau-optim, ...): find their
# ``flambeau/`` folders on sys.path whether they are installed from wheels or editable.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)

import flambeau._keywords as _keywords  # noqa: E402
from flambeau import _methods as _methods  # noqa: E402,F401 - attaches Tensor methods
from flambeau import (  # noqa: E402
    _subpackages,  # noqa: E402
    accelerator,
    amp,
    autograd,
    backends,
    compiler,
    cpu,
    cuda,
    fft,
    func,
    jit,
    linalg,
    random,
    serialization,
    sparse,
    special,
    version,
)
from flambeau._build_flags import (  # noqa: E402
    has_lapack,
    has_mkl,
    has_openmp,
    has_spectral,
    is_distributed,
)
from flambeau._compat import *  # noqa: E402,F403 - pi, FloatTensor, channels_last, strided...
from flambeau._control_flow import cond, while_loop  # noqa: E402
from flambeau._creation import (  # noqa: E402
    arange,
    as_tensor,
    asarray,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    poisson,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from flambeau._defaults import get_default_device, set_default_device  # noqa: E402
from flambeau._device import device  # noqa: E402
from flambeau._dlpack import to_dlpack  # noqa: E402
from flambeau._dtype import (  # noqa: E402
    bfloat16,
    bool,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    dtype,
    finfo,
    float,
    float8_e4m3fn,
    float8_e4m3fnuz,
    float8_e5m2,
    float8_e5m2fnuz,
    float8_e8m0fnu,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    is_floating_point,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
    uint16,
    uint32,
    uint64,
)
from flambeau._format import set_printoptions  # noqa: E402
from flambeau._methods import _FUNCTIONAL  # noqa: E402
from flambeau._ops.complex import *  # noqa: E402,F403
from flambeau._ops.decompositions import (  # noqa: E402
    addbmm,
    addr,
    chain_matmul,
    cholesky,
    cholesky_inverse,
    cholesky_solve,
    cross,
    det,
    inverse,
    kron,
    logdet,
    matrix_exp,
    matrix_power,
    pinverse,
    qr,
    slogdet,
    svd,
    tensordot,
    triangular_solve,
    vdot,
)
from flambeau._ops.elementwise import *  # noqa: E402,F403
from flambeau._ops.elementwise import abs, pow, round  # noqa: E402
from flambeau._ops.indexing import (  # noqa: E402
    argsort,
    argwhere,
    bincount,
    bucketize,
    gather,
    index_add,
    index_put,
    index_select,
    kthvalue,
    masked_fill,
    masked_select,
    median,
    msort,
    nonzero,
    scatter,
    scatter_add,
    searchsorted,
    sort,
    take,
    take_along_dim,
    topk,
    unique,
    unique_consecutive,
)
from flambeau._ops.indexing_more import (  # noqa: E402
    histc,
    histogram,
    index_copy,
    index_fill,
    index_reduce,
    isin,
    masked_scatter,
    put,
    scatter_reduce,
)
from flambeau._ops.linalg import (  # noqa: E402
    addmm,
    addmv,
    baddbmm,
    bmm,
    dot,
    einsum,
    ger,
    inner,
    matmul,
    mm,
    mv,
    outer,
)
from flambeau._ops.linalg_more import (  # noqa: E402
    geqrf,
    orgqr,
    ormqr,
    pca_lowrank,
    svd_lowrank,
)
from flambeau._ops.lobpcg import lobpcg  # noqa: E402
from flambeau._ops.lu import lu, lu_solve, lu_unpack  # noqa: E402
from flambeau._ops.reduction import (  # noqa: E402
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    count_nonzero,
    cumprod,
    cumsum,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    nanmean,
    nansum,
    norm,
    prod,
    softmax,
    softmin,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from flambeau._ops.reduction_more import (  # noqa: E402
    aminmax,
    cdist,
    corrcoef,
    cov,
    cummax,
    cummin,
    cumulative_trapezoid,
    diff,
    dist,
    logcumsumexp,
    mode,
    nanmedian,
    nanquantile,
    quantile,
    renorm,
    trapezoid,
    trapz,
)
from flambeau._ops.removed import eig, lstsq, matrix_rank, solve, symeig  # noqa: E402
from flambeau._ops.shape import (  # noqa: E402
    adjoint,
    broadcast_shapes,
    broadcast_tensors,
    broadcast_to,
    cat,
    chunk,
    concat,
    concatenate,
    diag,
    diagonal,
    expand_as,
    flatten,
    flip,
    fliplr,
    flipud,
    hstack,
    moveaxis,
    movedim,
    narrow,
    permute,
    repeat_interleave,
    reshape,
    roll,
    split,
    squeeze,
    stack,
    swapaxes,
    swapdims,
    t,
    tensor_split,
    tile,
    trace,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
    vstack,
)
from flambeau._ops.shape_more import (  # noqa: E402
    atleast_1d,
    atleast_2d,
    atleast_3d,
    bartlett_window,
    blackman_window,
    block_diag,
    cartesian_prod,
    column_stack,
    combinations,
    diag_embed,
    diagflat,
    diagonal_scatter,
    dsplit,
    dstack,
    hamming_window,
    hann_window,
    hsplit,
    kaiser_window,
    meshgrid,
    narrow_copy,
    ravel,
    rot90,
    row_stack,
    select,
    select_scatter,
    slice_scatter,
    split_with_sizes,
    tril_indices,
    triu_indices,
    unravel_index,
    unsafe_chunk,
    unsafe_split,
    vander,
    vsplit,
)
from flambeau._ops.special import *  # noqa: E402,F403
from flambeau._ops.special_more import igamma, igammac  # noqa: E402
from flambeau._ops.spectral import istft, stft  # noqa: E402
from flambeau._ops.strided_numeric import (  # noqa: E402
    as_strided,
    as_strided_,
    as_strided_copy,
    as_strided_scatter,
    binomial,
    gradient,
    histogramdd,
)
from flambeau._ops.tensor_more import *  # noqa: E402,F403
from flambeau._random import (  # noqa: E402
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from flambeau._serialization import load, save  # noqa: E402
from flambeau._sparse import (  # noqa: E402
    dsmm,
    hsmm,
    hspmm,
    saddmm,
    smm,
    sparse_coo_tensor,
    spmm,
    sspaddmm,
)
from flambeau._sparse_compressed import (  # noqa: E402
    sparse_bsc_tensor,
    sparse_bsr_tensor,
    sparse_compressed_tensor,
    sparse_csc_tensor,
    sparse_csr_tensor,
)
from flambeau._storage import (  # noqa: E402 - torch's legacy typed storages too
    BFloat16Storage,
    BoolStorage,
    ByteStorage,
    CharStorage,
    ComplexDoubleStorage,
    ComplexFloatStorage,
    DoubleStorage,
    FloatStorage,
    HalfStorage,
    IntStorage,
    LongStorage,
    ShortStorage,
    Storage,
    TypedStorage,
    UntypedStorage,
)
from flambeau._streams import Event, Stream  # noqa: E402
from flambeau._tensor import Size, Tensor  # noqa: E402
from flambeau._threads import get_num_threads, set_num_threads  # noqa: E402
from flambeau._toplevel_more import *  # noqa: E402,F403 - torch.X_, *_copy, switches, compile
from flambeau.accelerator import get_device_module  # noqa: E402
from flambeau.amp import (  # noqa: E402
    GradScaler,
    autocast,
    get_autocast_dtype,
    is_autocast_enabled,
)
from flambeau.autograd import (  # noqa: E402
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from flambeau.autograd._grad_mode import is_inference_mode_enabled  # noqa: E402
from flambeau.func import vmap  # noqa: E402 - torch.vmap

_subpackages.install()


def __getattr__(name):
    # ``flambeau.nn``, ``flambeau.optim``, ``flambeau.utils`` ... after a bare ``import
    # flambeau``, as with ``import torch``; imported on first use so core never needs them.
    return _subpackages.load(name)


__version__ = "0.1.0"


def is_tensor(obj) -> "bool":
    """Whether ``obj`` is a flambeau Tensor.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.is_tensor(flambeau.zeros(1)), flambeau.is_tensor([1])
    (True, False)
    """
    return isinstance(obj, Tensor)


def numel(input) -> "int":
    """The number of elements of ``input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.numel(flambeau.zeros(2, 3))
    6
    """
    return input.numel()


def clone(input, *, memory_format=None):
    """A copy of ``input`` with its own storage (differentiable).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.clone(flambeau.ones(2))
    tensor([1., 1.])
    """
    return input.clone()


def detach(input):
    """``input.detach()``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.detach(flambeau.ones(1, requires_grad=True)).requires_grad
    False
    """
    return input.detach()


def clamp_min(input, min, *, out=None):  # noqa: A002, F811
    """``clamp(input, min=min)`` (``out=`` as :func:`clamp`'s).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.clamp_min(flambeau.tensor([-1.0, 1.0]), 0.0)
    tensor([0., 1.])
    """
    return clamp(input, min=min, out=out)  # noqa: F405


def clamp_max(input, max, *, out=None):  # noqa: A002, F811
    """``clamp(input, max=max)`` (``out=`` as :func:`clamp`'s).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.clamp_max(flambeau.tensor([-1.0, 1.0]), 0.0)
    tensor([-1.,  0.])
    """
    return clamp(input, max=max, out=out)  # noqa: F405


def _public_names():
    names = [n for n in globals() if not n.startswith("_")]
    return sorted(set(names) - {"annotations"})


__all__ = _public_names()

# torch's parser takes NumPy's axis= for dim and keepdims= for keepdim on its C functions and
# Tensor methods: a thin layer over the ops that have them (flambeau._keywords says which)
_keywords.install(globals(), __all__, __name__, _keywords.PYTHON_LEVEL)
_keywords.install_methods(Tensor)
for _space in (linalg, special, fft):
    _keywords.install(vars(_space), _space.__all__, _space.__name__)
del _space
