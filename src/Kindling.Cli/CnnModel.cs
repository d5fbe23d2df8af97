using System.Globalization;
using Kindling.NN;

namespace Kindling.Cli;

/// <summary>
/// The convolutional model of <c>--model cnn</c>: the flat pixel features are unflattened to their image (C, H, W), then
/// per <c>--conv</c> channel count a block Conv2d(3×3, padding 1) → (BatchNorm2d) → activation → MaxPool2d(2), then
/// Flatten → (Dropout) → the <c>--hidden</c> Linear layers → Linear to the outputs. The defaults (--conv 32,64
/// --hidden 128) give the classic Fashion-MNIST CNN: Conv2d(1,32)-ReLU-MaxPool-Conv2d(32,64)-ReLU-MaxPool-Flatten-
/// Linear(3136,128)-ReLU-Linear(128,10). State-dict names are those of the same torch.nn.Sequential.
/// </summary>
public static class CnnModel
{
    /// <summary>The image shape behind <paramref name="features"/> flat pixels: 784 → 1×28×28, 3072 → 3×32×32, n² → 1×n×n.</summary>
    public static (int C, int H, int W) ImageShape(int features)
    {
        if (features == 3 * 32 * 32) return (3, 32, 32);
        int s = (int)Math.Round(Math.Sqrt(features));
        if (s * s == features && s >= 2) return (1, s, s);
        throw new UserError($"--model cnn needs image data (square grayscale images such as fashion-mnist's 784 or digits' 64 pixels, or 3×32×32), but the data has {features} features; use --model mlp.");
    }

    public static (Sequential Model, Generator DropoutGen) Build(int inputs, int outputs, TrainConfig c)
    {
        if (c.Conv.Length == 0 || c.Conv.Any(ch => ch <= 0)) throw new UserError($"--conv: channel counts must be positive, e.g. 32,64; got '{string.Join(",", c.Conv)}'.");
        if (c.Hidden.Any(h => h <= 0)) throw new UserError($"--hidden: layer sizes must be positive, got {string.Join(",", c.Hidden)}.");
        if (c.Dropout is < 0 or >= 1) throw new UserError($"--dropout must be in [0, 1), got {c.Dropout}.");
        var (ch, h, w) = ImageShape(inputs);
        var init = new Generator(c.Seed ^ 0x5DEECE66DUL);
        var dropGen = new Generator(c.Seed);
        var model = new Sequential(new Unflatten(1, ch, h, w));
        foreach (var oc in c.Conv)
        {
            model.Add(new Conv2d(ch, oc, 3, padding: 1, generator: init));
            if (c.BatchNorm) model.Add(new BatchNorm2d(oc));
            model.Add(ModelFactory.Activation(c.Activation));
            if (h >= 2 && w >= 2) { model.Add(new MaxPool2d(2)); h /= 2; w /= 2; }
            ch = oc;
        }
        model.Add(new Flatten());
        if (c.Dropout > 0) model.Add(new Dropout(c.Dropout, dropGen));
        int prev = ch * h * w;
        foreach (var hid in c.Hidden)
        {
            model.Add(new Linear(prev, hid, generator: init));
            model.Add(ModelFactory.Activation(c.Activation));
            prev = hid;
        }
        model.Add(new Linear(prev, outputs, generator: init));
        return (model, dropGen);
    }
}

/// <summary>A model summary like torchinfo's: each layer with its output shape and parameter count.</summary>
public static class ModelSummary
{
    /// <summary>Rows of (layer, output shape, parameters) for one sample of <paramref name="inputs"/> features, and the total.</summary>
    public static (List<(string Layer, string Output, long Params)> Rows, long Total) Of(Sequential model, int inputs)
    {
        var rows = new List<(string, string, long)>();
        bool training = model.Training;
        model.Eval();
        var x = Tensor.Zeros(1, inputs);
        long total = 0;
        using (Autograd.NoGrad())
            for (int i = 0; i < model.Count; i++)
            {
                x = model[i].Call(x);
                long n = model[i].Parameters().Sum(p => (long)p.NumEl);
                total += n;
                var shape = x.Shape;
                shape[0] = -1;
                rows.Add(($"{i}: {model[i].GetType().Name}", Tensor.ShapeStr(shape).Replace("-1", "N"), n));
            }
        model.Train(training);
        return (rows, total);
    }

    /// <summary>The summary as printable lines.</summary>
    public static IEnumerable<string> Lines(Sequential model, int inputs)
    {
        var (rows, total) = Of(model, inputs);
        yield return $"{"layer",-22} {"output shape",-20} {"parameters",12}";
        foreach (var (l, o, n) in rows) yield return $"{l,-22} {o,-20} {n.ToString("N0", CultureInfo.InvariantCulture),12}";
        yield return $"{"total",-22} {"",-20} {total.ToString("N0", CultureInfo.InvariantCulture),12}";
    }

    /// <summary>One line: the architecture for the run summary and report.</summary>
    public static string Describe(TrainConfig c, int inputs, int outputs)
    {
        if (c.Model != "cnn") return $"{string.Join(" → ", new[] { inputs }.Concat(c.Hidden).Append(outputs))} MLP ({c.Activation})";
        var (ch, h, w) = CnnModel.ImageShape(inputs);
        return $"CNN on {ch}×{h}×{w} images: conv {string.Join(",", c.Conv)}{(c.BatchNorm ? " + BatchNorm2d" : "")}, hidden {string.Join(",", c.Hidden)} → {outputs} ({c.Activation})";
    }
}
