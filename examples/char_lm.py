"""A character-level LSTM language model trained on a text file, then sampled (tutorial 5).

    python examples/char_lm.py --steps 500 --prompt "The keeper "
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

import flambeau
import flambeau.nn.functional as F
from flambeau import nn, optim

TEXT = Path(__file__).resolve().parents[1] / "docs" / "tutorials" / "data" / "lighthouse.txt"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--text", default=str(TEXT), help="a UTF-8 text file to learn")
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--length", type=int, default=48, help="characters per training window")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--prompt", default="The keeper ")
    p.add_argument("--sample", type=int, default=300, help="characters to generate")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


class CharLM(nn.Module):
    def __init__(self, vocab: int, embed: int = 32, hidden: int = 128):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        h, state = self.lstm(self.embed(x), state)
        return self.out(h), state


def generate(model, prompt, chars, stoi, n, temperature) -> str:
    model.eval()
    out = list(prompt)
    with flambeau.no_grad():
        logits, state = model(flambeau.tensor([[stoi[c] for c in prompt]]))
        for _ in range(n):
            probs = F.softmax(logits[0, -1] / temperature, dim=-1)
            nxt = flambeau.multinomial(probs, num_samples=1)
            out.append(chars[nxt.item()])
            logits, state = model(nxt.view(1, 1), state)
    return "".join(out)


def main(argv=None) -> float:
    args = parse_args(argv)
    flambeau.manual_seed(args.seed)
    text = Path(args.text).read_text(encoding="utf-8")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    unknown = sorted(set(args.prompt) - set(chars))
    if unknown:
        raise SystemExit(f"--prompt has characters that are not in the text: {unknown}")
    data = flambeau.tensor([stoi[c] for c in text])
    if len(data) <= args.length + 1:
        raise SystemExit(f"{args.text} is shorter than --length {args.length}")

    model = CharLM(len(chars), hidden=args.hidden)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    bar = tqdm(range(1, args.steps + 1), desc="training")
    for _ in bar:
        starts = flambeau.randint(0, len(data) - args.length - 1, (args.batch_size,))
        windows = data[starts[:, None] + flambeau.arange(args.length + 1)]
        logits, _ = model(windows[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), windows[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    print(f"final loss {loss.item():.3f}")
    print(generate(model, args.prompt, chars, stoi, args.sample, args.temperature))
    return loss.item()


if __name__ == "__main__":
    main()
