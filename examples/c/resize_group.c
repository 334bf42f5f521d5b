/* resize_group.c: resizing uploaded images concurrently with a group, then
 * waiting for all of them; one image fails and the group reports it, while
 * each task's own handle gives its individual result.
 */
#include <background.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define IMAGES 8

typedef struct {
    int id;
    int width, height;   /* in */
    int out_w, out_h;    /* out, written by the task */
} image;

/* Fits the image into 800x800, keeping its aspect ratio. */
static int resize(void *arg) {
    image *im = arg;
    if (im->width <= 0 || im->height <= 0) return 65; /* corrupt image */
    double scale = 800.0 / (im->width > im->height ? im->width : im->height);
    if (scale > 1) scale = 1;
    im->out_w = (int)(im->width * scale);
    im->out_h = (int)(im->height * scale);
    volatile uint64_t work = 0; /* stand-in for the pixels */
    for (int i = 0; i < 200000; i++) work += (uint64_t)i * (uint64_t)im->id;
    return 0;
}

int main(void) {
    image images[IMAGES];
    bg_task *tasks[IMAGES];
    bg_group *g;
    if (bg_group_new(bg_default_pool(), BG_GROUP_DEFAULT, &g) != BG_OK) return 1;
    for (int i = 0; i < IMAGES; i++) {
        images[i] = (image){i, 1000 + 300 * i, 700 + 100 * i, 0, 0};
        if (i == 5) images[i].width = 0;
        if (bg_group_submit(g, resize, &images[i], NULL, &tasks[i]) != BG_OK) return 1;
    }
    int first_error = 0;
    bg_status s = bg_group_wait(g, BG_FOREVER, &first_error);
    printf("group: %s (first error %d)\n", bg_strerror(s), first_error);
    int ok = 0;
    for (int i = 0; i < IMAGES; i++) {
        int rc = 0;
        if (bg_wait(tasks[i], &rc) == BG_OK) {
            ok++;
            printf("  image %d: %dx%d -> %dx%d\n", i, images[i].width, images[i].height, images[i].out_w, images[i].out_h);
        } else {
            printf("  image %d: failed with code %d\n", i, rc);
        }
        bg_task_release(tasks[i]);
    }
    bg_group_free(g);
    return !(s == BG_EFAILED && first_error == 65 && ok == IMAGES - 1);
}
