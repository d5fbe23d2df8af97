using Kindling.Data;

namespace Kindling.IO;

/// <summary>Which probabilities <see cref="Onnx.Export(NN.Module, int[], string, OnnxExportOptions?)"/> adds as a second output.</summary>
public enum OnnxProbabilities
{
    /// <summary>No second output.</summary>
    None,
    /// <summary>softmax over the last dimension (a multi-class classifier's logits).</summary>
    Softmax,
    /// <summary>elementwise sigmoid (binary or multi-label logits).</summary>
    Sigmoid,
}

/// <summary>Options of an ONNX export. The defaults give a plain model: input <c>input</c>, output <c>output</c>.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>
    /// Feature scaling applied before the model, exported as the graph's first nodes <c>(x − mean) / std</c> so the ONNX
    /// model takes raw features (what <see cref="Standardize.Transform"/> does in Kindling). Default: none.
    /// </summary>
    public Standardize? InputScaler { get; init; }

    /// <summary>
    /// An affine map applied to the model's output, exported as last nodes <c>y·Scale + Shift</c>: a regression model
    /// trained on standardized targets uses (target std, target mean) to output values in the target's units.
    /// Default: none.
    /// </summary>
    public (double Scale, double Shift)? OutputAffine { get; init; }

    /// <summary>Adds a second output <see cref="ProbabilitiesName"/> with softmax or sigmoid of the output. Default: none.</summary>
    public OnnxProbabilities Probabilities { get; init; } = OnnxProbabilities.None;

    /// <summary>The graph input's name (default <c>input</c>).</summary>
    public string InputName { get; init; } = "input";

    /// <summary>The main output's name (default <c>output</c>).</summary>
    public string OutputName { get; init; } = "output";

    /// <summary>The probabilities output's name (default <c>probabilities</c>).</summary>
    public string ProbabilitiesName { get; init; } = "probabilities";

    /// <summary>When true (the default), the first dimension is the symbolic <c>batch</c> so any batch size runs; otherwise every dimension is fixed to the sample shape.</summary>
    public bool DynamicBatch { get; init; } = true;

    /// <summary>Free text stored as the model's doc_string.</summary>
    public string? Description { get; init; }
}
