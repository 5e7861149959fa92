"""The margin and embedding losses broadcast their inputs as torch's do (same number of
dimensions, sizes of 1 stretched) and give torch 2.13's values; their shape checks raise
torch's errors."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau
import flambeau.nn.functional as F

A = [[0.5, -1.0], [2.0, 0.25], [-0.5, 1.5]]


def _close(t, expected):
    np.testing.assert_allclose(t.cpu().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_triplet_margin_loss_broadcasts_positive_and_negative():
    a = flambeau.tensor(A)
    loss = F.triplet_margin_loss(a, flambeau.tensor([[1.0, 0.0]]), flambeau.tensor([[0.0, 2.0]]),
                                 reduction="none")
    _close(loss, [0.0, 0.0, 2.414214849472046])


def test_triplet_margin_loss_of_numbers():
    loss = F.triplet_margin_loss(flambeau.tensor(1.0), flambeau.tensor(3.0), flambeau.tensor(0.0),
                                 reduction="none")
    _close(loss, 1.9999980926513672)


def test_margin_ranking_loss_broadcasts():
    loss = F.margin_ranking_loss(flambeau.tensor(A), flambeau.tensor([[1.0, 0.0]]),
                                 flambeau.tensor([[1.0, -1.0]]), reduction="none")
    _close(loss, [[0.5, 0.0], [0.0, 0.25], [1.5, 1.5]])


def test_cosine_embedding_loss_broadcasts_in_the_dot_product_only():
    # torch takes each input's norm unbroadcast, so a (3, 1) input2 gives cosines above 1
    loss = F.cosine_embedding_loss(flambeau.tensor(A), flambeau.tensor([[2.0], [1.0], [-1.0]]),
                                   flambeau.tensor([1, -1, 1]), reduction="none")
    _close(loss, [1.4472136497497559, 1.1163126230239868, 1.632455587387085])


def test_hinge_embedding_loss_takes_both_terms_for_other_targets():
    loss = F.hinge_embedding_loss(flambeau.tensor([0.3, 2.0, -1.0]),
                                  flambeau.tensor([0.5, 1.0, -1.0]), reduction="none")
    _close(loss, [1.0, 2.0, 2.0])


def test_pairwise_distance_of_numbers():
    d = F.pairwise_distance(flambeau.tensor(1.0), flambeau.tensor(3.0))
    assert d.shape == () and d.item() == pytest.approx(1.999999, rel=1e-6)
    assert F.pairwise_distance(flambeau.tensor(1.0), flambeau.tensor(3.0), keepdim=True).shape == ()


@pytest.mark.parametrize(("call", "match"), [
    (lambda: F.margin_ranking_loss(flambeau.ones(2, 3), flambeau.ones(3), flambeau.ones(1)),
     r"margin_ranking_loss: the input1, input2, and target tensors are expected to have the "
     r"same number of dimensions, but got: input1 2D \(2, 3\), input2 1D \(3,\), and target 1D"),
    (lambda: F.triplet_margin_loss(flambeau.ones(2, 3), flambeau.ones(3), flambeau.zeros(2, 3)),
     r"triplet_margin_loss: the anchor, positive, and negative tensors are expected to have "
     r"the same number of dimensions"),
    (lambda: F.cosine_embedding_loss(flambeau.ones(2), flambeau.ones(2), flambeau.ones(2)),
     r"1D target tensor expects 2D input tensors, but found inputs with sizes \[2\] and \[2\]"),
    (lambda: F.cosine_embedding_loss(flambeau.ones(3, 2), flambeau.ones(3, 2),
                                     flambeau.tensor(1)),
     r"0D target tensor expects 1D input tensors, but found inputs with sizes \[3, 2\] and "),
    (lambda: F.cosine_embedding_loss(flambeau.ones(3, 2), flambeau.ones(3, 2),
                                     flambeau.ones(3, 1)),
     "0D or 1D target tensor expected, multi-target not supported"),
    (lambda: F.soft_margin_loss(flambeau.zeros(1, 2), flambeau.ones(5, 2)),
     r"soft_margin_loss: output with shape \[1, 2\] doesn't match the broadcast shape \[5, 2\]"),
])
def test_shape_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


def test_soft_margin_loss_stretches_the_target_only():
    loss = F.soft_margin_loss(flambeau.zeros(5, 2), flambeau.ones(1, 2), reduction="none")
    assert loss.shape == (5, 2)


def test_values_are_torchs():
    torch = pytest.importorskip("torch")
    a = torch.tensor(A)
    got = F.triplet_margin_loss(flambeau.tensor(A), flambeau.tensor([[1.0, 0.0]]),
                                flambeau.tensor([[0.0, 2.0]]), p=1, swap=True, reduction="none")
    want = torch.nn.functional.triplet_margin_loss(a, torch.tensor([[1.0, 0.0]]),
                                                   torch.tensor([[0.0, 2.0]]), p=1, swap=True,
                                                   reduction="none")
    _close(got, want.tolist())
