namespace Kindling.NN;

/// <summary>
/// The initialisation shared by Conv1d, Conv2d and ConvTranspose2d (PyTorch's <c>_ConvNd.reset_parameters</c>):
/// weight ~ kaiming_uniform(a = √5), i.e. U(−1/√fan_in, 1/√fan_in), then bias ~ U(−1/√fan_in, 1/√fan_in) with fan_in
/// taken from the weight (in_channels/groups × kernel size; for the transposed layer its first weight dimension's
/// partner, as PyTorch computes it from the stored weight shape). Draws in that order, so a seeded generator gives
/// PyTorch's sequence of draws for the same shapes.
/// </summary>
internal static class ConvInit
{
    public static void ResetParameters(Tensor weight, Tensor? bias, Generator? generator)
    {
        Init.KaimingUniform_(weight, Math.Sqrt(5), g: generator);
        if (bias == null) return;
        double bound = 1 / Math.Sqrt(Init.Fans(weight).FanIn);
        Init.Uniform_(bias, -bound, bound, generator);
    }
}
