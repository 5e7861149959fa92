"""Data-parallel training with flambeau.distributed (tutorial 10).

Every process trains a replica on its shard of the data; DistributedDataParallel averages
the gradients, so the replicas stay identical. Start it with MPI's launcher:

    mpiexec -n 2 python examples/ddp_train.py --epochs 5

Without mpiexec it is a world of one process, which is how it is smoke-tested.
"""

from __future__ import annotations

import argparse

from tqdm import tqdm

import flambeau
import flambeau.distributed as dist
from flambeau import nn, optim
from flambeau.data import DataLoader, DistributedSampler, TensorDataset
from flambeau.nn.parallel import DistributedDataParallel as DDP


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--limit", type=int, default=4096, help="number of training samples")
    p.add_argument("--batch-size", type=int, default=64, help="per process")
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> float:
    args = parse_args(argv)
    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        # the same seed everywhere: every rank builds the same data set; DDP copies rank
        # 0's initial weights to the others anyway
        flambeau.manual_seed(args.seed)
        x = flambeau.randn(args.limit, 20)
        y = (x[:, :5].sum(dim=1) > 0).long()
        dataset = TensorDataset(x, y)
        sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, seed=args.seed)
        loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)

        model = DDP(nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2)))
        optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
        criterion = nn.CrossEntropyLoss()
        if rank == 0:
            print(f"{world} process(es), {len(sampler)} samples each per epoch")

        for epoch in range(1, args.epochs + 1):
            sampler.set_epoch(epoch)  # a different shuffle every epoch, the same on all ranks
            total = flambeau.zeros(2)  # summed loss and count
            for inputs, labels in tqdm(loader, desc=f"epoch {epoch}", disable=rank != 0):
                optimizer.zero_grad()
                loss = criterion(model(inputs), labels)
                loss.backward()  # gradients are averaged over the ranks here
                optimizer.step()
                total += flambeau.tensor([loss.item() * len(labels), len(labels)])
            dist.all_reduce(total)  # sum over the ranks
            if rank == 0:
                print(f"epoch {epoch}: mean loss {(total[0] / total[1]).item():.4f}")

        with flambeau.no_grad():
            accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
        if rank == 0:
            print(f"training accuracy {accuracy:.3f}")
            # model.module is the plain model: save it without the "module." prefix
            # flambeau.save(model.module.state_dict(), "ddp_model.pt")
        return accuracy
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
