namespace Kindling.NN;

/// <summary>How a loss reduces its per-element values (PyTorch's <c>reduction</c> argument).</summary>
public enum Reduction
{
    /// <summary>No reduction: the per-element (or per-sample) losses.</summary>
    None,
    /// <summary>The mean (for weighted classification losses: divided by the summed weights). The default.</summary>
    Mean,
    /// <summary>The sum.</summary>
    Sum,
    /// <summary>The sum divided by the batch size: only for <see cref="Functional.KLDiv"/>, where it is the mathematically correct KL divergence.</summary>
    BatchMean,
}

/// <summary>Parsing of PyTorch reduction names.</summary>
public static class Reductions
{
    /// <summary>Parses "none", "mean", "sum" or "batchmean"; any other value is an <see cref="ArgumentException"/> that lists the valid ones.</summary>
    public static Reduction Parse(string value, string loss = "loss") => value switch
    {
        "none" => Reduction.None,
        "mean" => Reduction.Mean,
        "sum" => Reduction.Sum,
        "batchmean" => Reduction.BatchMean,
        _ => throw new ArgumentException($"{loss}: '{value}' is not a valid reduction; use 'none', 'mean' or 'sum' ('batchmean' for kl_div only).", "reduction"),
    };
}

/// <summary>The argument checks shared by every loss, so their messages read alike.</summary>
internal static class LossCheck
{
    public static void Reduction(string loss, Reduction r, bool allowBatchMean = false)
    {
        if (r == NN.Reduction.BatchMean && !allowBatchMean)
            throw new ArgumentException($"{loss}: reduction 'batchmean' is only defined for kl_div; use None, Mean or Sum.", "reduction");
        if (!Enum.IsDefined(r)) throw new ArgumentException($"{loss}: unknown reduction {(int)r}.", "reduction");
    }

    /// <summary>The checks every elementwise loss starts with: a known reduction, float input and target, equal shapes.</summary>
    public static void ElementwisePair(string loss, Reduction r, Tensor input, Tensor target)
    {
        Reduction(loss, r);
        Float(loss, "input", input);
        Float(loss, "target", target);
        SameShape(loss, input, target);
    }

    public static void Float(string loss, string arg, Tensor t)
    {
        if (!t.IsFloatingPoint)
            throw new ArgumentException($"{loss}: {arg} must be a floating-point tensor, got {Tensor.DTypeName(t.DType)} with shape {t.ShapeString}.", arg);
    }

    /// <summary>Input and target must have exactly the same shape; the (N, 1) vs (N) case gets its own explanation.</summary>
    public static void SameShape(string loss, Tensor input, Tensor target, string inputName = "input", string targetName = "target")
    {
        if (input.Dims.AsSpan().SequenceEqual(target.Dims)) return;
        int[] a = input.Dims, b = target.Dims;
        if (a.Length == 2 && a[1] == 1 && b.Length == 1 && b[0] == a[0])
            throw new ArgumentException($"{loss}: {inputName} {input.ShapeString} and {targetName} {target.ShapeString} differ in shape. PyTorch would silently broadcast them to ({a[0]}, {a[0]}) and compute a wrong loss; reshape the target with {targetName}.Reshape({a[0]}, 1), or squeeze the input with {inputName}.Squeeze(1).", targetName);
        if (b.Length == 2 && b[1] == 1 && a.Length == 1 && a[0] == b[0])
            throw new ArgumentException($"{loss}: {inputName} {input.ShapeString} and {targetName} {target.ShapeString} differ in shape; broadcasting them would give ({a[0]}, {a[0]}). Reshape the input with {inputName}.Reshape({a[0]}, 1), or squeeze the target with {targetName}.Squeeze(1).", targetName);
        throw new ArgumentException($"{loss}: {inputName} {input.ShapeString} and {targetName} {target.ShapeString} must have the same shape.", targetName);
    }

    /// <summary>For the losses whose PyTorch docs promise broadcasting: the shapes must broadcast; returns the result shape.</summary>
    public static int[] Broadcastable(string loss, Tensor a, Tensor b, string aName, string bName)
    {
        try { return Tensor.BroadcastShapes(a.Dims, b.Dims, loss); }
        catch (ArgumentException)
        {
            throw new ArgumentException($"{loss}: {aName} {a.ShapeString} and {bName} {b.ShapeString} do not broadcast to a common shape.", bName);
        }
    }

    public static void SameDType(string loss, Tensor input, Tensor other, string arg)
    {
        if (other.DType != input.DType)
            throw new ArgumentException($"{loss}: {arg} is {Tensor.DTypeName(other.DType)} but input is {Tensor.DTypeName(input.DType)}; convert it with .To(input.DType).", arg);
    }

    public static Tensor Reduce(Tensor each, Reduction r) => r switch
    {
        NN.Reduction.None => each,
        NN.Reduction.Sum => each.Sum(),
        _ => each.Mean(),
    };
}
