#include <background.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <stdatomic.h>
static uint64_t now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1000000000ull+t.tv_nsec;}
static atomic_int left;
static int blk(void*a){(void)a;usleep(100000);atomic_fetch_sub(&left,1);return 0;}
int main(int argc,char**argv){int n=argc>1?atoi(argv[1]):100; atomic_store(&left,n);
 bg_spawn(blk,0); while(atomic_load(&left)==n) usleep(100); atomic_store(&left,n);/* warm: starts pool */
 sleep(6); uint64_t t0=now(); for(int i=0;i<n;i++) bg_spawn(blk,0); size_t peak=0;
 while(atomic_load(&left)>0){bg_stats s;bg_pool_stats(bg_default_pool(),&s);if(s.threads+s.spares>peak)peak=s.threads+s.spares;usleep(500);}
 printf("%d x 100 ms: %.3f s, peak threads %zu\n",n,(now()-t0)/1e9,peak);return 0;}
