"""The PyTorch tutorial loop: nn.LSTM + nn.Linear, CrossEntropyLoss, torch.optim.Adam."""


def make_step(batch_size: int, device: str = "cpu"):
    import torch

    import impls.torch_lstm  # noqa: F401  the harness model's thread budget and float32 (TF32 off) switches
    dev = torch.device("cuda" if device == "gpu" else "cpu")
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(28, 128, batch_first=True)
            self.fc = torch.nn.Linear(128, 10)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1, :])

    net = Net().to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(batch_size, 28, 28, device=dev)
    y = torch.randint(0, 10, (batch_size,), device=dev)

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss

    def sync(_result):
        if dev.type == "cuda":
            torch.cuda.synchronize()

    return step, sync
