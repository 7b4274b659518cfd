# The engine benchmark's PyTorch peer (harness/bench/engine/peers.ts runs it): the reference model of
# models/engine/reference-model.ts in PyTorch, same architecture, init scheme, optimizer and batch, trained and
# evaluated on seeded random tokens. Argument: the model config as JSON (vocab, dModel, heads, layers, ffnHidden,
# seqLength, batch) plus steps, warmup and threads. Prints one JSON line: seconds per step and tokens/s.
import json, math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
torch.manual_seed(1)
V, d, H, L, f, T, B = cfg["vocab"], cfg["dModel"], cfg["heads"], cfg["layers"], cfg["ffnHidden"], cfg["seqLength"], cfg["batch"]
hd = d // H

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(d, eps=1e-5); self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.wq = nn.Linear(d, d, bias=False); self.wk = nn.Linear(d, d, bias=False); self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.w1 = nn.Linear(d, f); self.w2 = nn.Linear(f, d)
    def forward(self, x, mask):
        b, t, _ = x.shape
        xn = self.ln1(x)
        q, k, v = (w(xn).view(b, t, H, hd).transpose(1, 2) for w in (self.wq, self.wk, self.wv))
        s = (q / math.sqrt(hd)) @ k.transpose(-1, -2) + mask
        a = (s.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.wo(a)
        return x + self.w2(F.relu(self.w1(self.ln2(x))))

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, d)
        self.blocks = nn.ModuleList([Block() for _ in range(L)])
        self.lnf = nn.LayerNorm(d, eps=1e-5); self.out = nn.Linear(d, V, bias=False)
        for p in self.parameters():
            if p.dim() == 2: nn.init.trunc_normal_(p, std=0.02, a=-0.04, b=0.04)
    def forward(self, tokens):
        t = tokens.shape[1]
        mask = torch.triu(torch.full((t, t), -1e9), diagonal=1)
        x = self.embed(tokens)
        for blk in self.blocks: x = blk(x, mask)
        return self.out(self.lnf(x))

model = Model()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
g = torch.Generator().manual_seed(1)
def batch(): return torch.randint(0, V, (B, T + 1), generator=g)
def step():
    tok = batch()
    loss = F.cross_entropy(model(tok[:, :-1]).reshape(-1, V), tok[:, 1:].reshape(-1))
    opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    return loss.item()
for _ in range(cfg["warmup"]): step()
t0 = time.perf_counter()
for _ in range(cfg["steps"]): loss = step()
train_s = (time.perf_counter() - t0) / cfg["steps"]
with torch.no_grad():
    tok = batch(); model(tok[:, :-1])
    t0 = time.perf_counter()
    for _ in range(cfg["steps"]): model(batch()[:, :-1])
    eval_s = (time.perf_counter() - t0) / cfg["steps"]
print(json.dumps({"torchVersion": torch.__version__, "threads": torch.get_num_threads(), "secondsPerStep": train_s,
    "trainTokensPerSecond": B * T / train_s, "evalTokensPerSecond": B * T / eval_s, "finalLoss": loss}))
