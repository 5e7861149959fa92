"""Policy gradients on a small deterministic environment: REINFORCE (Categorical log_prob,
normalised discounted returns) and actor-critic (a shared body with action and value heads,
smooth_l1_loss on the value). Actions are sampled with the Gumbel-max trick on noise drawn
from NumPy, which is a sample of Categorical(logits=...) that both frameworks draw alike."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from _common import init_from_numpy
from torch.distributions import Categorical

eps = np.finfo(np.float32).eps.item()


class Corridor:
    """Walk left or right on 7 cells from the middle; reward 1 at the right end."""

    def reset(self):
        self.pos = 3
        return self.observe()

    def observe(self):
        state = np.zeros(7, dtype=np.float32)
        state[self.pos] = 1.0
        return state

    def step(self, action):
        self.pos = max(0, min(6, self.pos + (1 if action == 1 else -1)))
        done = self.pos in (0, 6)
        return self.observe(), float(self.pos == 6) - 0.01, done


class Policy(nn.Module):
    def __init__(self):
        super(Policy, self).__init__()
        self.affine1 = nn.Linear(7, 16)
        self.affine2 = nn.Linear(16, 2)
        self.saved_log_probs = []
        self.rewards = []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        return F.softmax(self.affine2(x), dim=1)


class ActorCritic(nn.Module):
    def __init__(self):
        super(ActorCritic, self).__init__()
        self.affine1 = nn.Linear(7, 16)
        self.action_head = nn.Linear(16, 2)
        self.value_head = nn.Linear(16, 1)
        self.saved_actions = []
        self.rewards = []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        action_prob = F.softmax(self.action_head(x), dim=-1)
        state_values = self.value_head(x)
        return action_prob, state_values


def sample(m, gumbel):
    return (m.logits + torch.from_numpy(gumbel)).argmax(-1)


def discounted(rewards, gamma):
    R, returns = 0, []
    for r in rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    return (returns - returns.mean()) / (returns.std() + eps)


def run_episode(env, select, rng, max_steps=12):
    state, ep_reward = env.reset(), 0
    for t in range(max_steps):
        action = select(state, rng.gumbel(size=2).astype(np.float32))
        state, reward, done = env.step(action)
        ep_reward += reward
        yield reward
        if done:
            break


def reinforce(episodes, gamma, rng):
    policy = init_from_numpy(Policy(), seed=1)
    optimizer = optim.Adam(policy.parameters(), lr=1e-2)

    def select_action(state, gumbel):
        probs = policy(torch.from_numpy(state).float().unsqueeze(0))
        m = Categorical(probs)
        action = sample(m, gumbel)
        policy.saved_log_probs.append(m.log_prob(action))
        return action.item()

    losses, lengths = [], []
    for episode in range(episodes):
        policy.rewards = list(run_episode(Corridor(), select_action, rng))
        returns = discounted(policy.rewards, gamma)
        policy_loss = []
        for log_prob, R in zip(policy.saved_log_probs, returns):
            policy_loss.append(-log_prob * R)
        optimizer.zero_grad()
        policy_loss = torch.cat(policy_loss).sum()
        policy_loss.backward()
        optimizer.step()
        losses.append(policy_loss.item())
        lengths.append(len(policy.rewards))
        del policy.rewards[:]
        del policy.saved_log_probs[:]
    return losses, lengths, policy.state_dict()


def actor_critic(episodes, gamma, rng):
    model = init_from_numpy(ActorCritic(), seed=2)
    optimizer = optim.Adam(model.parameters(), lr=3e-2)

    def select_action(state, gumbel):
        state = torch.from_numpy(state).float()
        probs, state_value = model(state)
        m = Categorical(probs)
        action = sample(m, gumbel)
        model.saved_actions.append((m.log_prob(action), state_value, m.entropy()))
        return action.item()

    losses = []
    for episode in range(episodes):
        model.rewards = list(run_episode(Corridor(), select_action, rng))
        returns = discounted(model.rewards, gamma)
        policy_losses, value_losses = [], []
        for (log_prob, value, entropy), R in zip(model.saved_actions, returns):
            advantage = R - value.item()
            policy_losses.append(-log_prob * advantage - 0.01 * entropy)
            value_losses.append(F.smooth_l1_loss(value, torch.tensor([R])))
        optimizer.zero_grad()
        loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        del model.rewards[:]
        del model.saved_actions[:]
    return losses, model.state_dict()


def main(episodes=6, gamma=0.99):
    rng = np.random.default_rng(0)
    pg_loss, lengths, policy = reinforce(episodes, gamma, rng)
    ac_loss, actor_critic_params = actor_critic(episodes, gamma, rng)
    return {"reinforce_loss": pg_loss, "episode_length": lengths, "policy": policy,
            "actor_critic_loss": ac_loss, "actor_critic": actor_critic_params}


if __name__ == "__main__":
    print(main())
