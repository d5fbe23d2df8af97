namespace Kindling.Tests;

/// <summary>Runs each example program briefly: it trains and reports a held-out metric better than chance.</summary>
public class ExampleTests
{
    [Fact]
    public void ImageClassifierLearns() => Assert.InRange(ImageClassifier.Run(epochs: 2, limit: 3000), 0.75, 1.0);

    [Fact]
    public void HouseRegressorLearns()
    {
        var (rmse, r2) = HouseRegressor.Run(epochs: 60);
        Assert.InRange(r2, 0.2, 1.0);
        Assert.InRange(rmse, 20, 80);
    }

    /// <summary>A small version of the CNN example (fewer channels and images) so the test takes seconds.</summary>
    [Fact]
    public void CnnClassifierLearns() => Assert.InRange(CnnClassifier.Run(epochs: 2, trainLimit: 2000, testLimit: 1000, channels1: 8, channels2: 16, hidden: 32), 0.6, 1.0);

    [Fact]
    public void BinaryClassifierLearns() => Assert.InRange(BinaryClassifier.Run(epochs: 30), 0.9, 1.0);
}
