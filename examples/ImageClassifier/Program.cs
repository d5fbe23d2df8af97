using Kindling;
using Kindling.Data;
using Kindling.NN;
using Kindling.Optim;

// The source material's image classifier, 3072 → 128 → 2 with CrossEntropyLoss, here on two Fashion-MNIST classes
// (T-shirt vs shirt, 784 inputs), or on digits 3 vs 8 when Fashion-MNIST is not installed.
//   dotnet run --project examples/ImageClassifier -c Release [epochs]
int epochs = args.Length > 0 ? int.Parse(args[0]) : 5;
Console.WriteLine($"held-out accuracy: {ImageClassifier.Run(epochs):P1}");

public static class ImageClassifier
{
    public static double Run(int epochs, int? limit = null)
    {
        Tensor x, y;
        string what;
        if (FashionMnist.IsAvailable())
        {
            var d = FashionMnist.Load();
            (x, y) = TwoClasses(d.Features.Reshape(d.Count, -1), d.Targets, 0, 6);
            what = "Fashion-MNIST T-shirt/top vs shirt";
        }
        else
        {
            var d = Datasets.Digits();
            (x, y) = TwoClasses(d.Features, d.Targets, 3, 8);
            what = "digits 3 vs 8 (Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist)";
        }
        if (limit is int cap && x.Size(0) > cap) { x = x.Narrow(0, 0, cap); y = y.Narrow(0, 0, cap); }
        Console.WriteLine($"{what}: {x.Size(0)} images of {x.Size(1)} pixels");
        var split = Dataset.RandomSplit(new TensorDataset(x, y), [0.8, 0.2], new Generator(0));
        var init = new Generator(2); // its own generator: the result does not depend on what else drew from Generator.Default
        var model = new Sequential(new Linear(x.Size(1), 128, generator: init), new ReLU(), new Linear(128, 2, generator: init));
        // Two output columns with CrossEntropyLoss: the source's choice for a 2-class image problem.
        var loss = new CrossEntropyLoss();
        var opt = new SGD(model.Parameters(), lr: 0.05, momentum: 0.9);
        var loader = new DataLoader(split[0], 64, shuffle: true, generator: new Generator(1));
        for (int e = 0; e < epochs; e++)
        {
            double sum = 0; int n = 0;
            foreach (var (xb, yb) in loader)
            {
                opt.ZeroGrad();
                var l = loss.Call(model.Call(xb), yb);
                l.Backward();
                opt.Step();
                sum += l.ItemDouble() * xb.Size(0); n += xb.Size(0);
            }
            Console.WriteLine($"epoch {e + 1}: train loss {sum / n:F4}");
        }
        var (tx, ty) = DataLoader.Collate(split[1], Enumerable.Range(0, split[1].Count).ToArray());
        model.Eval();
        using (Autograd.NoGrad())
        {
            var pred = model.Call(tx).ArgMax(1).ToInt64Array();
            var truth = ty.ToInt64Array();
            return pred.Zip(truth).Count(p => p.First == p.Second) / (double)truth.Length;
        }
    }

    private static (Tensor, Tensor) TwoClasses(Tensor x, Tensor y, long a, long b)
    {
        var labels = y.ToInt64Array();
        var idx = Enumerable.Range(0, labels.Length).Where(i => labels[i] == a || labels[i] == b).Select(i => (long)i).ToArray();
        var sel = Tensor.FromArray(idx);
        var yy = Tensor.FromArray(idx.Select(i => labels[i] == a ? 0L : 1L).ToArray());
        return (x.IndexSelect(0, sel), yy);
    }
}
