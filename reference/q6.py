"""Q6 of the course (run_q6.py) as graded functions: PCA via SVD with 32 components, compared with the
Q5 autoencoder.

Run ``python q6.py`` to write originals beside PCA reconstructions for 5 classes and print the
validation PSNR."""
import numpy as np


# Q 6.2
def pca_projection(train_x, dim=32):
    """The PCA basis of train_x by SVD: returns (P, mean) where P is (D, dim) with orthonormal columns,
    the top-`dim` principal directions, and mean (D,) is what is subtracted before projecting (the
    training mean here; zeros if you do not centre)."""
    mean = train_x.mean(axis=0)
    _, _, vt = np.linalg.svd(train_x - mean, full_matrices=False)
    return vt[:dim].T, mean


# Q 6.2
def pca_reconstruct(x, P, mean):
    """Project the rows of x on the basis and back: (x - mean) P P^T + mean."""
    return (x - mean) @ P @ P.T + mean


if __name__ == '__main__':
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))  # the harness's data
    from grader.datasets import nist36
    from q5 import five_classes, psnr, show_reconstructions

    os.makedirs('q6_figures', exist_ok=True)
    (train_x, _), (valid_x, valid_y) = nist36.load('train'), nist36.load('valid')
    P, mean = pca_projection(train_x)
    recon = pca_reconstruct(valid_x, P, mean)
    show_reconstructions(valid_x, recon, five_classes(valid_y), 'PCA, 32 components',
                         'q6_figures/q6_reconstructions.png')
    print(f'validation PSNR {psnr(valid_x, recon):.2f}')
