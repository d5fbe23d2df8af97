namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// Pads the last dimensions (PyTorch's <c>F.pad</c>): <paramref name="pad"/> = (left, right) of the last dimension,
    /// then (top, bottom) of the one before, and so on (at most 2·rank values). Modes: "constant" (default, filled with
    /// <paramref name="value"/>; negative pads crop), "reflect" (mirror without repeating the edge; pad &lt; size),
    /// "replicate" (repeat the edge) and "circular" (wrap around; pad ≤ size). Differentiable in the input.
    /// </summary>
    public static Tensor Pad(Tensor input, int[] pad, string mode = "constant", double value = 0)
    {
        const string P = "pad";
        if (pad.Length % 2 != 0) throw new ArgumentException($"{P}: padding length must be even (pairs of before/after per dimension), got {pad.Length}.", nameof(pad));
        if (pad.Length / 2 > input.Rank) throw new ArgumentException($"{P}: padding ({string.Join(", ", pad)}) covers {pad.Length / 2} dimensions but the input {input.ShapeString} has {input.Rank}.", nameof(pad));
        if (mode is not ("constant" or "reflect" or "replicate" or "circular"))
            throw new ArgumentException($"{P}: unknown mode '{mode}'; expected constant, reflect, replicate or circular.", nameof(mode));
        if (mode != "constant" && value != 0) throw new ArgumentException($"{P}: a fill value only applies to mode 'constant', not '{mode}'.", nameof(value));
        var x = input;
        for (int i = 0; i < pad.Length / 2; i++)
        {
            int d = input.Rank - 1 - i, before = pad[2 * i], after = pad[2 * i + 1], size = x.Dims[d];
            if (before == 0 && after == 0) continue;
            if (mode == "constant") { x = PadConstantDim(x, d, before, after, value); continue; }
            // Negative pads crop, as in PyTorch: circular wraps around what is left after cropping; reflect and replicate
            // index the original dimension (so reflect may mirror elements the crop removed).
            if (before + size + after < 0 || (before < 0 || after < 0) && before + size + after <= 0)
                throw new ArgumentException($"{P}: padding ({before}, {after}) removes all {size} elements of dimension {d} of {input.ShapeString}; the output would be empty or negative.", nameof(pad));
            if (mode == "circular" && (before < 0 || after < 0))
            {
                int start = Math.Max(0, -before), end = size - Math.Max(0, -after);
                x = x.Narrow(d, start, end - start);
                size = end - start;
                before = Math.Max(before, 0); after = Math.Max(after, 0);
                if (before == 0 && after == 0) continue;
            }
            if (mode == "reflect" && (before >= size || after >= size))
                throw new ArgumentException($"{P}: reflect padding ({before}, {after}) must be smaller than dimension {d} of the input {input.ShapeString} (size {size}); use mode 'replicate' or less padding.", nameof(pad));
            if (mode == "circular" && (before > size || after > size))
                throw new ArgumentException($"{P}: circular padding ({before}, {after}) must be at most dimension {d} of the input {input.ShapeString} (size {size}).", nameof(pad));
            if (size == 0) throw new ArgumentException($"{P}: cannot {mode}-pad the empty dimension {d} of {input.ShapeString}.", nameof(input));
            var idx = new long[Math.Max(0, before + size + after)];
            for (int j = 0; j < idx.Length; j++)
            {
                int s = j - before;
                idx[j] = mode switch
                {
                    "reflect" => s < 0 ? -s : s >= size ? 2 * (size - 1) - s : s,
                    "replicate" => Math.Clamp(s, 0, size - 1),
                    _ => ((s % size) + size) % size,
                };
            }
            x = x.IndexSelect(d, Tensor.FromArray(idx));
        }
        return x;
    }

    private static Tensor PadConstantDim(Tensor x, int d, int before, int after, double value)
    {
        int size = x.Dims[d];
        if (before < 0 || after < 0)
        {
            int start = Math.Max(0, -before), end = size - Math.Max(0, -after);
            if (end < start) throw new ArgumentException($"pad: negative padding ({before}, {after}) removes more than the {size} elements of dimension {d}.");
            x = x.Narrow(d, start, end - start);
            before = Math.Max(before, 0); after = Math.Max(after, 0);
        }
        var parts = new List<Tensor>(3);
        if (before > 0) { var s = x.Shape; s[d] = before; parts.Add(Tensor.Full(s, value, x.DType)); }
        parts.Add(x);
        if (after > 0) { var s = x.Shape; s[d] = after; parts.Add(Tensor.Full(s, value, x.DType)); }
        return parts.Count == 1 ? x : Tensor.Cat(parts, d);
    }
}
