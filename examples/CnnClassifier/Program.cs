using Kindling;
using Kindling.Data;
using Kindling.NN;
using Kindling.Optim;

// The source material's image classifier done the way image models are trained: a convolutional network on images
// that keep their shape, here all ten Fashion-MNIST classes (28×28), scored on the official 10,000-image test set —
// or on the embedded 8×8 digits when Fashion-MNIST is not installed.
//   dotnet run --project examples/CnnClassifier -c Release [epochs]
int epochs = args.Length > 0 ? int.Parse(args[0]) : 6;
Console.WriteLine($"held-out accuracy: {CnnClassifier.Run(epochs):P2}");

public static class CnnClassifier
{
    /// <summary>Trains and returns the accuracy on the held-out images. The limits and channel counts keep tests short.</summary>
    public static double Run(int epochs, int? trainLimit = null, int? testLimit = null, int channels1 = 32, int channels2 = 64, int hidden = 128)
    {
        TensorDataset train, test;
        if (FashionMnist.IsAvailable() && FashionMnist.IsAvailable(train: false))
        {
            train = ImageDatasets.FashionMnist(train: true);
            test = ImageDatasets.FashionMnist(train: false);   // the official test set
            Console.WriteLine("Fashion-MNIST: 60,000 training and 10,000 official test images of 1×28×28");
        }
        else
        {
            var all = ImageDatasets.Digits();
            var parts = Dataset.RandomSplit(all, [0.8, 0.2], new Generator(0));
            train = Materialise(parts[0]);
            test = Materialise(parts[1]);
            Console.WriteLine("digits (Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist): 1×8×8 images");
        }
        if (trainLimit is int tl && train.Count > tl) train = new TensorDataset(train.Features.Narrow(0, 0, tl), train.Targets.Narrow(0, 0, tl));
        if (testLimit is int sl && test.Count > sl) test = new TensorDataset(test.Features.Narrow(0, 0, sl), test.Targets.Narrow(0, 0, sl));

        // Per-channel statistics of the training images, applied to both splits.
        var norm = Normalize.Fit(train.Features);
        var trainX = norm.Apply(train.Features);
        var testX = norm.Apply(test.Features);
        int size = train.FeatureShape[1];
        int pooled = size / 4;
        // A seeded initialisation: the same weights on every run, whatever else drew from the global generator before.
        var init = new Generator(0);
        var model = new Sequential(
            new Conv2d(1, channels1, 3, padding: 1, generator: init), new ReLU(), new MaxPool2d(2),
            new Conv2d(channels1, channels2, 3, padding: 1, generator: init), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(channels2 * pooled * pooled, hidden, generator: init), new ReLU(), new Linear(hidden, 10, generator: init));
        var opt = new Adam(model.Parameters(), lr: 1e-3);
        var loss = new CrossEntropyLoss();
        var loader = new DataLoader(new TensorDataset(trainX, train.Targets), 128, shuffle: true, generator: new Generator(1));
        for (int e = 0; e < epochs; e++)
        {
            double sum = 0; int n = 0;
            var t0 = DateTime.UtcNow;
            foreach (var (xb, yb) in loader)
            {
                opt.ZeroGrad();
                var l = loss.Call(model.Call(xb), yb);
                l.Backward();
                opt.Step();
                sum += l.ItemDouble() * xb.Size(0); n += xb.Size(0);
            }
            Console.WriteLine($"epoch {e + 1}: train loss {sum / n:F4} ({n / (DateTime.UtcNow - t0).TotalSeconds:N0} images/s)");
        }
        model.Eval();
        int correct = 0;
        var labels = test.Targets.ToInt64Array();
        using (Autograd.NoGrad())
            for (int s = 0; s < test.Count; s += 1000)
            {
                int len = Math.Min(1000, test.Count - s);
                var pred = model.Call(testX.Narrow(0, s, len)).ArgMax(1).ToInt64Array();
                for (int i = 0; i < len; i++) if (pred[i] == labels[s + i]) correct++;
            }
        return correct / (double)test.Count;
    }

    private static TensorDataset Materialise(Dataset d)
    {
        var (x, y) = DataLoader.Collate(d, Enumerable.Range(0, d.Count).ToArray());
        return new TensorDataset(x, y);
    }
}
