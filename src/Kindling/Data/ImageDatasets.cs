namespace Kindling.Data;

/// <summary>
/// Image datasets with their image shape kept, (N, C, H, W), for convolutional models; the flat (N, H·W) forms
/// (<see cref="Kindling.Data.FashionMnist.Load"/>, <see cref="Datasets.Digits"/>) stay for MLPs.
/// </summary>
public static class ImageDatasets
{
    /// <summary>Fashion-MNIST as images (N, 1, 28, 28), pixels in [0, 1]; see <see cref="Kindling.Data.FashionMnist.Load"/>.</summary>
    public static TensorDataset FashionMnist(string? folder = null, bool train = true)
    {
        var flat = Kindling.Data.FashionMnist.Load(folder, train);
        return new TensorDataset(flat.Features.Reshape(flat.Count, 1, 28, 28), flat.Targets) { ClassNames = flat.ClassNames };
    }

    /// <summary>The embedded digits as images (1797, 1, 8, 8), intensities 0..16 as in <see cref="Datasets.Digits"/>.</summary>
    public static TensorDataset Digits()
    {
        var d = Datasets.Digits();
        return new TensorDataset(d.Features.Reshape(d.Count, 1, 8, 8), d.Targets) { ClassNames = d.ClassNames };
    }

    /// <summary>CIFAR-10 from its binary files, (N, 3, 32, 32); see <see cref="Cifar10.Load"/>.</summary>
    public static TensorDataset Cifar10(string folder, bool train = true) => Kindling.Data.Cifar10.Load(folder, train);
}
