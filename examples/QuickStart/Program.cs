using Kindling; using Kindling.Data; using Kindling.NN; using Kindling.Optim;

// README's example, kept compiling: a model, a loss and an optimizer on the embedded digits.
//   dotnet run --project examples/QuickStart -c Release
var data = Datasets.Digits();                                   // embedded: 1797 8×8 images, 10 classes
var x = Standardize.Fit(data.Features).Transform(data.Features);
var model = new Sequential(new Linear(64, 128), new ReLU(), new Linear(128, 10));
var lossFn = new CrossEntropyLoss(labelSmoothing: 0.05);
var opt = new Adam(model.Parameters(), lr: 1e-3);
var loader = new DataLoader(new TensorDataset(x, data.Targets), batchSize: 64, shuffle: true, generator: new Generator(0));
for (int epoch = 0; epoch < 20; epoch++)
    foreach (var (xb, yb) in loader)
    {
        opt.ZeroGrad();
        var loss = lossFn.Call(model.Call(xb), yb);
        loss.Backward();
        opt.Step();
    }
using (Autograd.NoGrad())
    Console.WriteLine($"training accuracy: {model.Call(x).ArgMax(1).Eq(data.Targets).ToFloat32().Mean().Item():P1}");
