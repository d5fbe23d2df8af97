using Kindling;
using Kindling.Data;
using Kindling.NN;
using Kindling.Optim;

// The source material's 10 → 5 → 1 binary classifier with a sigmoid hidden layer, on the embedded breast-cancer
// dataset (30 features, so 30 → 5 → 1).
//   dotnet run --project examples/BinaryClassifier -c Release [epochs]
int epochs = args.Length > 0 ? int.Parse(args[0]) : 100;
Console.WriteLine($"held-out accuracy: {BinaryClassifier.Run(epochs):P1}");

public static class BinaryClassifier
{
    public static double Run(int epochs)
    {
        var d = Datasets.BreastCancer();
        var split = Dataset.RandomSplit(d.ToDataset(), [0.8, 0.2], new Generator(0));
        var (trX, trY) = DataLoader.Collate(split[0], Enumerable.Range(0, split[0].Count).ToArray());
        var (teX, teY) = DataLoader.Collate(split[1], Enumerable.Range(0, split[1].Count).ToArray());
        var scaler = Standardize.Fit(trX);
        var x = scaler.Transform(trX);
        var y = trY.ToFloat32().Reshape(-1, 1);
        var init = new Generator(2); // its own generator: the result does not depend on what else drew from Generator.Default
        var model = new Sequential(new Linear(x.Size(1), 5, generator: init), new Sigmoid(), new Linear(5, 1, generator: init));
        // The source pairs a single output with CrossEntropyLoss, which cannot work: with one column every class index
        // but 0 is out of range (Kindling says so and points here). One logit wants BCEWithLogitsLoss: the sigmoid
        // and the binary cross-entropy fused, stable for any logit.
        var loss = new BCEWithLogitsLoss();
        var opt = new SGD(model.Parameters(), lr: 0.1, momentum: 0.9);
        var loader = new DataLoader(new TensorDataset(x, y), 64, shuffle: true, generator: new Generator(1));
        for (int e = 0; e < epochs; e++)
            foreach (var (xb, yb) in loader)
            {
                opt.ZeroGrad();
                var l = loss.Call(model.Call(xb), yb);
                l.Backward();
                opt.Step();
            }
        model.Eval();
        using var _ = Autograd.NoGrad();
        var logits = model.Call(scaler.Transform(teX)).Reshape(-1).ToArray();
        var truth = teY.ToInt64Array();
        return logits.Zip(truth).Count(p => (p.First > 0 ? 1 : 0) == p.Second) / (double)truth.Length;
    }
}
