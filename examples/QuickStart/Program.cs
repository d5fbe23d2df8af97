using Kindling; using Kindling.Data; using Kindling.NN; using Kindling.Optim;

// README's example, kept compiling: a model, a loss and an optimizer on the embedded digits.
//   dotnet run --project examples/QuickStart -c Release
var data = Datasets.Digits();                                   // embedded: 1797 8×8 images, 10 classes
var perm = Tensor.RandPerm(data.Count, new Generator(0));       // hold out 20% for testing
var (testIdx, trainIdx) = (perm.Narrow(0, 0, 360), perm.Narrow(0, 360, data.Count - 360));
var scaler = Standardize.Fit(data.Features.IndexSelect(0, trainIdx));   // statistics of the training rows only
var (xTrain, yTrain) = (scaler.Transform(data.Features.IndexSelect(0, trainIdx)), data.Targets.IndexSelect(0, trainIdx));
var (xTest, yTest) = (scaler.Transform(data.Features.IndexSelect(0, testIdx)), data.Targets.IndexSelect(0, testIdx));
var model = new Sequential(new Linear(64, 128), new ReLU(), new Linear(128, 10));
var lossFn = new CrossEntropyLoss(labelSmoothing: 0.05);
var opt = new Adam(model.Parameters(), lr: 1e-3);
var loader = new DataLoader(new TensorDataset(xTrain, yTrain), batchSize: 64, shuffle: true, generator: new Generator(0));
for (int epoch = 0; epoch < 20; epoch++)
    foreach (var (xb, yb) in loader)
    {
        opt.ZeroGrad();
        var loss = lossFn.Call(model.Call(xb), yb);
        loss.Backward();
        opt.Step();
    }
model.Eval();
using (Autograd.NoGrad())
    Console.WriteLine($"test accuracy: {model.Call(xTest).ArgMax(1).Eq(yTest).ToFloat32().Mean().Item():P1} on {yTest.Size(0)} held-out digits");
