namespace Kindling;

/// <summary>
/// Finite-difference gradient checking in float64 (PyTorch's <c>torch.autograd.gradcheck</c>, projected): compares the
/// analytic vector–Jacobian product vᵀJ from <see cref="Tensor.Backward"/> with central differences of vᵀf(x), for a
/// fixed random v, element by element of every input that requires grad.
/// </summary>
public static class GradCheck
{
    /// <summary>
    /// Checks <paramref name="f"/> at <paramref name="inputs"/> (float64 tensors; those with RequiresGrad are checked).
    /// Throws <see cref="InvalidOperationException"/> naming the input and element whose gradient disagrees.
    /// </summary>
    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3, ulong seed = 1234)
    {
        foreach (var x in inputs)
            if (x.RequiresGrad && x.DType != DType.Float64)
                throw new ArgumentException($"GradCheck: inputs that require grad must be float64 for finite differences to be meaningful, got {Tensor.DTypeName(x.DType)}.");
        foreach (var x in inputs) x.Grad = null;
        var y0 = f(inputs);
        if (y0.DType != DType.Float64) throw new ArgumentException($"GradCheck: the function must return float64, got {Tensor.DTypeName(y0.DType)}.");
        var v = Tensor.Rand(y0.Shape, new Generator(seed), DType.Float64) + 0.5;
        (y0 * v).Sum().Backward();

        for (int t = 0; t < inputs.Length; t++)
        {
            var x = inputs[t];
            if (!x.RequiresGrad) continue;
            if (!x.IsContiguous) throw new ArgumentException("GradCheck: inputs must be contiguous.");
            var analytic = x.Grad?.ToDoubleArray() ?? new double[x.NumEl];
            var data = (double[])x.Storage.Data;
            for (int i = 0; i < x.NumEl; i++)
            {
                int at = x.Offset + i;
                double orig = data[at];
                double plus, minus;
                using (Autograd.NoGrad())
                {
                    data[at] = orig + eps; plus = (f(inputs) * v).Sum().ItemDouble();
                    data[at] = orig - eps; minus = (f(inputs) * v).Sum().ItemDouble();
                }
                data[at] = orig;
                double numeric = (plus - minus) / (2 * eps);
                double a = analytic[i];
                bool ok = Math.Abs(a - numeric) <= atol + rtol * Math.Abs(numeric) || (double.IsNaN(a) && double.IsNaN(numeric));
                if (!ok)
                    throw new InvalidOperationException($"GradCheck: gradient of input {t} (shape {Tensor.ShapeStr(x.Shape)}) at flat element {i} is {a:R} analytically but {numeric:R} by finite differences.");
            }
        }
    }
}
