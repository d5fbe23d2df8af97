using Kindling.NN;

namespace Kindling.Cli;

/// <summary>One row of a model summary: the layer's name in the state dict, its repr, output shape and parameter count.</summary>
public sealed record LayerRow(string Name, string Layer, string OutputShape, long Parameters);

/// <summary>
/// A model summary in the style of torchinfo / Keras <c>model.summary()</c>: each layer of a <see cref="Sequential"/>
/// with its output shape (batch dimension shown as -1) and parameter count, from one forward pass of a single sample.
/// </summary>
public static class ModelSummary
{
    public static List<LayerRow> Of(Sequential model, int[] sampleShape)
    {
        var rows = new List<LayerRow>();
        bool training = model.Training;
        model.Eval();
        try
        {
            using var _ = Autograd.NoGrad();
            var x = Tensor.Zeros([1, .. sampleShape]);
            foreach (var (name, layer) in model.NamedChildren())
            {
                x = layer.Call(x);
                long count = layer.Parameters().Sum(p => (long)p.NumEl);
                rows.Add(new LayerRow(name, Short(layer.ToString()), "(-1, " + string.Join(", ", x.Shape.Skip(1)) + ")", count));
            }
        }
        finally { model.Train(training); }
        return rows;
    }

    /// <summary>The first line of a layer's repr (containers print their children on further lines).</summary>
    private static string Short(string repr) => repr.Split('\n')[0].TrimEnd('(').Trim();

    /// <summary>A short description for the console's one-line model header: "64 → 128 → 10 MLP (relu)" or "linear model".</summary>
    public static string Describe(int inputs, int[] hidden, int outputs, string activation) =>
        hidden.Length == 0 ? $"{inputs} → {outputs} linear model (no hidden layer)"
                           : $"{string.Join(" → ", new[] { inputs }.Concat(hidden).Append(outputs))} MLP ({activation})";
}
